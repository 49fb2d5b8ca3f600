/** Curve helpers for the metric charts: TensorBoard's smoothing and the x axis choice. */

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight` (0 = raw,
 * 0.99 = very smooth), debiased so the first points are not pulled towards zero. Points that
 * are not finite numbers stay as they are and do not enter the average.
 */
export function smoothEma(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) {
    return values.slice();
  }
  let last = 0;
  let count = 0;
  return values.map(value => {
    if (value === null || !isFinite(value)) {
      return value;
    }
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - Math.pow(weight, count));
  });
}

/** What the x axis shows: the logged step, seconds since the run's first point, or the clock. */
export type XAxisKind = 'step' | 'relative' | 'wall';

/** A metric's value as a number, or null for NaN, infinities and anything else. */
export function finite(value: number | string | null | undefined): number | null {
  return typeof value === 'number' && isFinite(value) ? value : null;
}

/**
 * One run's curve as (x, y) columns for the chart: `x` per `kind`, y null where the value is
 * not a finite number, sorted by x.
 */
export function curvePoints(
  steps: number[],
  times: number[],
  values: (number | string)[],
  kind: XAxisKind
): [number[], (number | null)[]] {
  const origin = times.length ? Math.min(...times) : 0;
  const rows: [number, number | null][] = steps.map((step, i) => {
    const x = kind === 'step' ? step : kind === 'relative' ? times[i] - origin : times[i];
    return [x, finite(values[i])];
  });
  rows.sort((a, b) => a[0] - b[0]);
  return [rows.map(r => r[0]), rows.map(r => r[1])];
}
