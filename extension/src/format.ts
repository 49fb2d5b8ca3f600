/** Human-readable sizes and times, matching mlnb/display.py. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !isFinite(n)) {
    return '—';
  }
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const sign = n < 0 ? '-' : '';
  return unit === 0 ? `${sign}${value.toFixed(0)} B` : `${sign}${value.toFixed(1)} ${UNITS[unit]}`;
}

export function humanDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return `${(seconds * 1000).toFixed(0)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  }
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export function humanTime(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined) {
    return '—';
  }
  const date = new Date(epochSeconds * 1000);
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

export function formatValue(value: number | string | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    const size = Math.abs(value);
    if (Number.isInteger(value) || !isFinite(value)) {
      return String(value);
    }
    // 4 significant digits without trailing zeros; very small or large values in e-notation
    return size < 1e-3 || size >= 1e6 ? value.toExponential(2) : String(Number(value.toPrecision(4)));
  }
  return value;
}

/** Make an element with text content only: user strings never become HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

const STEP_COUNTERS = new Set(['epoch', 'epochs', 'step', 'steps', 'global_step', 'iteration', 'iter', 'batch']);

/**
 * Where a metric name belongs in a list shown to a person: the user's own metrics and
 * recorded values first (0), step counters such as `epoch` next (1), system samples
 * (`sys/...`) last (2).
 */
export function metricRank(name: string): number {
  if (name.startsWith('sys/')) {
    return 2;
  }
  const leaf = name.split('/').pop()!.toLowerCase();
  return STEP_COUNTERS.has(leaf) ? 1 : 0;
}

/** Metric names ordered by {@link metricRank}, then by how many runs have them, then by name. */
export function orderMetrics(counts: Map<string, number>): string[] {
  return [...counts.entries()]
    .sort(
      (a, b) =>
        metricRank(a[0]) - metricRank(b[0]) || b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    )
    .map(([name]) => name);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A start time short enough for a narrow column, in local time: `14:03` today, `Nov 30` this
 * year, `2024-11-30` before. The full time goes in the cell's tooltip ({@link humanTime}).
 */
export function compactTime(epochSeconds: number | null | undefined, now = new Date()): string {
  if (epochSeconds === null || epochSeconds === undefined) {
    return '—';
  }
  const date = new Date(epochSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  if (date.toDateString() === now.toDateString()) {
    return `${two(date.getHours())}:${two(date.getMinutes())}`;
  }
  if (date.getFullYear() === now.getFullYear()) {
    return `${MONTHS[date.getMonth()]} ${date.getDate()}`;
  }
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}
