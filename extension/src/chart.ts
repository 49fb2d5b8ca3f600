import { Widget } from '@lumino/widgets';
import uPlot from 'uplot';

import { el, orderMetrics } from './format';
import { curvePoints, smoothEma, XAxisKind } from './smooth';
import { MetricSeries } from './types';

/** One run's curves, as the chart gets them. */
export interface ChartRun {
  id: string;
  label: string;
  series: MetricSeries[];
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const HEIGHT = 220;
const X_TITLES: Record<XAxisKind, string> = {
  step: 'step',
  relative: 'seconds since the first point',
  wall: 'time'
};

/** A styled `<select>` in JupyterLab's look, with a visible label. */
export function labelledSelect(label: string, options: [string, string][], className: string): HTMLSelectElement {
  const select = el('select', undefined, `jp-mod-styled ${className}`);
  select.setAttribute('aria-label', label);
  select.title = label;
  for (const [value, text] of options) {
    const option = el('option', text);
    option.value = value;
    select.appendChild(option);
  }
  return select;
}

/** The CSS variable `name` as the page's current theme sets it. */
function themeValue(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/**
 * Metric curves of several runs drawn with uPlot: hover shows every run's value at the
 * cursor, drag zooms (double-click resets), TensorBoard's smoothing slider, a log scale,
 * and x by step, relative time or wall time. Redraws when the theme changes.
 */
export class MetricChart extends Widget {
  readonly metricSelect = labelledSelect('metric', [], 'mlnb-chart-metric');
  readonly xSelect = labelledSelect(
    'x axis',
    [
      ['step', 'by step'],
      ['relative', 'by time (relative)'],
      ['wall', 'by time (wall clock)']
    ],
    'mlnb-chart-x'
  );
  readonly smoothInput = el('input', undefined, 'mlnb-chart-smooth');
  readonly logInput = el('input', undefined, 'jp-mod-styled mlnb-chart-log');
  private smoothValue = el('span', '0.6', 'mlnb-chart-smooth-value');
  private plotHost = el('div', undefined, 'mlnb-chart-plot');
  private note = el('div', '', 'mlnb-chart-note');
  private runs: ChartRun[] = [];
  private plot: uPlot | null = null;
  private resizer = new ResizeObserver(() => this.fitWidth());
  private themeWatch = new MutationObserver(() => this.draw());

  constructor() {
    super();
    this.addClass('mlnb-MetricChart');
    this.smoothInput.type = 'range';
    this.smoothInput.min = '0';
    this.smoothInput.max = '0.99';
    this.smoothInput.step = '0.01';
    this.smoothInput.value = '0.6';
    this.smoothInput.setAttribute('aria-label', 'smoothing');
    this.logInput.type = 'checkbox';
    const controls = el('div', undefined, 'mlnb-chart-controls');
    const smoothing = el('label', 'smoothing ', 'mlnb-chart-control');
    smoothing.append(this.smoothInput, this.smoothValue);
    const log = el('label', undefined, 'mlnb-chart-control');
    log.append(this.logInput, document.createTextNode(' log scale'));
    controls.append(this.metricSelect, this.xSelect, smoothing, log);
    this.node.append(controls, this.plotHost, this.note);
    this.plotHost.title = 'drag to zoom, double-click to zoom out';
    for (const input of [this.metricSelect, this.xSelect, this.logInput]) {
      input.addEventListener('change', () => this.draw());
    }
    this.smoothInput.addEventListener('input', () => {
      this.smoothValue.textContent = Number(this.smoothInput.value).toFixed(2);
      this.draw();
    });
    this.resizer.observe(this.plotHost);
    this.themeWatch.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name'] });
  }

  /** Chart these runs (the metric choice is kept when the new runs have it). */
  setRuns(runs: ChartRun[]): void {
    this.runs = runs;
    const counts = new Map<string, number>();
    for (const run of runs) {
      for (const series of run.series) {
        counts.set(series.name, (counts.get(series.name) ?? 0) + 1);
      }
    }
    const current = this.metricSelect.value;
    const names = orderMetrics(counts);
    this.metricSelect.replaceChildren(...names.map(name => el('option', name)));
    if (counts.has(current)) {
      this.metricSelect.value = current;
    }
    this.node.hidden = names.length === 0;
    this.draw();
  }

  /** The uPlot instance now on screen (tests read its data), or null. */
  get chart(): uPlot | null {
    return this.plot;
  }

  private data(metric: string, kind: XAxisKind, logScale: boolean): [uPlot.AlignedData, string[], number] {
    const weight = Number(this.smoothInput.value);
    const tables: uPlot.AlignedData[] = [];
    const labels: string[] = [];
    let dropped = 0;
    for (const run of this.runs) {
      const series = run.series.find(s => s.name === metric);
      if (!series) {
        continue;
      }
      const [xs, raw] = curvePoints(series.steps, series.times ?? [], series.values, kind);
      const ys = smoothEma(raw, weight).map(y => (y !== null && logScale && y <= 0 ? null : y));
      dropped += ys.filter(y => y === null).length - raw.filter(y => y === null).length;
      tables.push([xs, ys]);
      labels.push(run.label);
    }
    const joined = tables.length === 1 ? tables[0] : uPlot.join(tables);
    return [joined, labels, dropped];
  }

  private options(labels: string[], kind: XAxisKind, logScale: boolean, metric: string): uPlot.Options {
    const text = themeValue('--jp-ui-font-color1', '#333');
    const grid = themeValue('--jp-border-color2', '#ddd');
    const family = themeValue('--jp-ui-font-family', 'sans-serif');
    const axis = (label: string): uPlot.Axis => ({
      label,
      stroke: text,
      font: `11px ${family}`,
      labelFont: `12px ${family}`,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 }
    });
    return {
      width: Math.max(120, this.plotHost.clientWidth),
      height: HEIGHT,
      scales: { x: { time: kind === 'wall' }, y: logScale ? { distr: 3 } : {} },
      axes: [axis(X_TITLES[kind]), { ...axis(metric), size: 56 }],
      cursor: { drag: { x: true, y: false }, focus: { prox: 16 } },
      focus: { alpha: 0.3 },
      legend: { live: true },
      hooks: {
        // the visible x range, for a person's tooltip and the tests: zoom changes it
        setScale: [
          (u: uPlot, key: string) => {
            if (key === 'x' && u.scales.x.min !== undefined && u.scales.x.max !== undefined) {
              u.root.dataset.xRange = `${u.scales.x.min}…${u.scales.x.max}`;
            }
          }
        ]
      },
      series: [
        { label: X_TITLES[kind] },
        ...labels.map((label, i) => ({
          label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: true
        }))
      ]
    };
  }

  /** Draw (again) from the runs and the controls' state. */
  draw(): void {
    this.plot?.destroy();
    this.plot = null;
    this.note.textContent = '';
    const metric = this.metricSelect.value;
    if (!metric || this.runs.length === 0 || !this.node.isConnected) {
      return;
    }
    const kind = this.xSelect.value as XAxisKind;
    const logScale = this.logInput.checked;
    const [data, labels, dropped] = this.data(metric, kind, logScale);
    if (data[0].length === 0) {
      this.note.textContent = `no points of ${metric} to plot`;
      return;
    }
    this.plot = new uPlot(this.options(labels, kind, logScale, metric), data, this.plotHost);
    Object.assign(this.plot.root.dataset, {
      metric,
      x: kind,
      log: String(logScale),
      smoothing: Number(this.smoothInput.value).toFixed(2)
    });
    if (dropped > 0) {
      this.note.textContent = `${dropped} point${dropped === 1 ? '' : 's'} ≤ 0 left out of the log scale`;
    }
  }

  private fitWidth(): void {
    const width = this.plotHost.clientWidth;
    if (this.plot && width > 0 && Math.abs(this.plot.width - width) > 1) {
      this.plot.setSize({ width, height: HEIGHT });
    } else if (!this.plot && width > 0) {
      this.draw();
    }
  }

  protected onAfterAttach(): void {
    this.draw();
  }

  dispose(): void {
    this.resizer.disconnect();
    this.themeWatch.disconnect();
    this.plot?.destroy();
    super.dispose();
  }
}
