const SVG = 'http://www.w3.org/2000/svg';

/**
 * A sparkline of `values` (0…`top`) as an SVG polyline: a stroke, never a filled area, so a
 * constant value is a visible flat line at its level. Missing readings (null) are skipped;
 * a single reading is drawn as a short flat line.
 */
export function sparklineSvg(values: (number | null)[], top = 100, width = 36, height = 14): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'mlnb-sparkline');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('aria-hidden', 'true');
  const baseline = document.createElementNS(SVG, 'line');
  baseline.setAttribute('class', 'mlnb-sparkline-base');
  baseline.setAttribute('x1', '0');
  baseline.setAttribute('x2', String(width));
  baseline.setAttribute('y1', String(height - 0.5));
  baseline.setAttribute('y2', String(height - 0.5));
  svg.appendChild(baseline);
  const known = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (known.length === 0) {
    return svg;
  }
  const pad = 2;
  const span = Math.max(values.length - 1, 1);
  const x = (i: number) => (known.length === 1 ? i : (i / span) * width);
  const y = (v: number) => pad + (1 - Math.max(0, Math.min(1, v / top))) * (height - 2 * pad);
  const points = known.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  if (known.length === 1) {
    points.push(`${width.toFixed(1)},${y(known[0][1]).toFixed(1)}`);
  }
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('class', 'mlnb-sparkline-line');
  line.setAttribute('fill', 'none');
  line.setAttribute('points', points.join(' '));
  svg.appendChild(line);
  return svg;
}
