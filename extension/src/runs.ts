import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { el, formatValue, humanDuration, humanTime, orderMetrics } from './format';
import { ApiError, requestAPI } from './request';
import { MetricSeries, RunList, RunMetrics, RunSummary } from './types';

type SortKey = 'name' | 'project' | 'status' | 'start_time' | 'duration';
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const SVG = 'http://www.w3.org/2000/svg';

/** Opens a run's notebook; given by the plugin (it knows the app's commands). */
export type OpenPath = (path: string) => void;

/** The "Runs" side panel: list, filter, sort, live refresh, overlaid metric curves. */
export class RunsPanel extends Widget {
  runs: RunSummary[] = [];
  selected = new Set<string>();
  sortKey: SortKey = 'start_time';
  sortDescending = true;
  lastRenderMs = 0;
  readonly poll: Poll;
  private filterInput = el('input', undefined, 'mlnb-runs-filter');
  private statusLine = el('div', '', 'mlnb-runs-status');
  private tableHost = el('div', undefined, 'mlnb-runs-table');
  private chartHost = el('div', undefined, 'mlnb-runs-chart');
  private metricSelect = el('select', undefined, 'mlnb-runs-metric');
  private metrics = new Map<string, MetricSeries[]>();

  constructor(private openPath: OpenPath) {
    super();
    this.id = 'mlnb-runs-panel';
    this.addClass('mlnb-RunsPanel');
    this.title.caption = 'mlnb runs';
    this.title.label = 'Runs';
    this.filterInput.placeholder = 'filter by name, project, status or tag';
    this.filterInput.addEventListener('input', () => this.renderTable());
    this.metricSelect.addEventListener('change', () => this.renderChart());
    const refresh = el('button', 'Refresh', 'mlnb-runs-refresh');
    refresh.addEventListener('click', () => void this.poll.refresh());
    const bar = el('div', undefined, 'mlnb-runs-toolbar');
    bar.append(this.filterInput, refresh);
    this.node.append(bar, this.statusLine, this.metricSelect, this.chartHost, this.tableHost);
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: 3000, backoff: true, max: 60 * 1000 },
      standby: 'when-hidden'
    });
  }

  /** Opening the panel shows the store as it is now, not as of the last poll. */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll.refresh();
  }

  get live(): boolean {
    return this.runs.some(run => run.status === 'running');
  }

  async refresh(): Promise<void> {
    let list: RunList;
    try {
      list = await requestAPI<RunList>('runs?limit=5000');
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(String(error), 0);
      this.statusLine.textContent = apiError.missing
        ? 'mlnb server extension is not enabled on this Jupyter server (pip install "mlnb[lab]", then restart it).'
        : `runs unavailable: ${apiError.message}`;
      this.statusLine.dataset.state = 'error';
      if (apiError.missing) {
        void this.poll.stop();
        return;
      }
      throw apiError;
    }
    this.runs = list.runs;
    this.statusLine.dataset.state = 'ok';
    const shown = list.runs.length < list.total ? ` (showing the newest ${list.runs.length})` : '';
    this.statusLine.textContent =
      list.message ||
      `${list.total} run${list.total === 1 ? '' : 's'}${shown}${this.live ? ' · live' : ''}`;
    this.renderTable();
    for (const id of this.selected) {
      if (this.runs.find(run => run.id === id)?.status === 'running' || !this.metrics.has(id)) {
        await this.loadMetrics(id);
      }
    }
    this.renderChart();
    if (!this.live) {
      // nothing is being written: slow down until the user asks or a run starts
      this.poll.frequency = { ...this.poll.frequency, interval: 15000 };
    } else {
      this.poll.frequency = { ...this.poll.frequency, interval: 3000 };
    }
  }

  private visibleRuns(): RunSummary[] {
    const needle = this.filterInput.value.trim().toLowerCase();
    const rows = needle
      ? this.runs.filter(run =>
          [run.name, run.project ?? '', run.status, run.id].some(v => v.toLowerCase().includes(needle))
        )
      : [...this.runs];
    const key = this.sortKey;
    const sign = this.sortDescending ? -1 : 1;
    rows.sort((a, b) => {
      const x = a[key] ?? '';
      const y = b[key] ?? '';
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    return rows;
  }

  private summaryKeys(): string[] {
    const counts = new Map<string, number>();
    for (const run of this.runs) {
      for (const key of Object.keys(run.summary)) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return orderMetrics(counts).slice(0, 3);
  }

  renderTable(): void {
    const started = performance.now();
    const metricKeys = this.summaryKeys();
    const table = el('table', undefined, 'mlnb-table');
    const head = table.createTHead().insertRow();
    head.appendChild(el('th', ''));
    const columns: [string, SortKey | null][] = [
      ['name', 'name'],
      ['project', 'project'],
      ['status', 'status'],
      ['start', 'start_time'],
      ['duration', 'duration']
    ];
    for (const [title, key] of columns) {
      const th = el('th', title + (key === this.sortKey ? (this.sortDescending ? ' ▾' : ' ▴') : ''));
      if (key) {
        th.addEventListener('click', () => {
          this.sortDescending = this.sortKey === key ? !this.sortDescending : false;
          this.sortKey = key;
          this.renderTable();
        });
      }
      head.appendChild(th);
    }
    for (const key of metricKeys) {
      head.appendChild(el('th', key));
    }
    head.appendChild(el('th', ''));
    const body = table.createTBody();
    const fragment = document.createDocumentFragment();
    for (const run of this.visibleRuns()) {
      const row = document.createElement('tr');
      row.dataset.runId = run.id;
      const pick = el('input');
      pick.type = 'checkbox';
      pick.checked = this.selected.has(run.id);
      pick.addEventListener('change', () => void this.toggle(run.id, pick.checked));
      const pickCell = el('td');
      pickCell.appendChild(pick);
      row.appendChild(pickCell);
      row.appendChild(el('td', run.name, 'mlnb-run-name'));
      row.appendChild(el('td', run.project ?? '—'));
      row.appendChild(el('td', run.status, `mlnb-status mlnb-status-${run.status.replace(/[^a-z]/g, '')}`));
      row.appendChild(el('td', humanTime(run.start_time)));
      row.appendChild(el('td', humanDuration(run.duration)));
      for (const key of metricKeys) {
        row.appendChild(el('td', formatValue(run.summary[key])));
      }
      const actions = el('td');
      const path = run.output_path ?? run.notebook_path;
      if (path) {
        const open = el('button', 'open', 'mlnb-run-open');
        open.title = path;
        open.addEventListener('click', () => this.openPath(path));
        actions.appendChild(open);
      }
      row.appendChild(actions);
      fragment.appendChild(row);
    }
    body.appendChild(fragment);
    this.tableHost.replaceChildren(table);
    this.lastRenderMs = performance.now() - started;
    this.node.dataset.renderMs = this.lastRenderMs.toFixed(1);
  }

  async toggle(id: string, on: boolean): Promise<void> {
    if (on) {
      this.selected.add(id);
      await this.loadMetrics(id);
    } else {
      this.selected.delete(id);
    }
    this.renderChart();
  }

  private async loadMetrics(id: string): Promise<void> {
    try {
      const reply = await requestAPI<RunMetrics>(`runs/${encodeURIComponent(id)}/metrics`);
      this.metrics.set(id, reply.metrics);
    } catch (error) {
      this.metrics.set(id, []);
      this.statusLine.textContent = `metrics of ${id} unavailable: ${String((error as Error).message)}`;
    }
  }

  renderChart(): void {
    const names = new Set<string>();
    for (const id of this.selected) {
      for (const series of this.metrics.get(id) ?? []) {
        names.add(series.name);
      }
    }
    const current = this.metricSelect.value;
    const ordered = orderMetrics(new Map([...names].map(name => [name, 1])));
    this.metricSelect.replaceChildren(...ordered.map(name => el('option', name)));
    if (names.has(current)) {
      this.metricSelect.value = current;
    }
    this.metricSelect.hidden = names.size === 0;
    const metric = this.metricSelect.value;
    this.chartHost.replaceChildren();
    if (!metric || this.selected.size === 0) {
      return;
    }
    const curves: { label: string; points: [number, number][] }[] = [];
    for (const id of this.selected) {
      const series = (this.metrics.get(id) ?? []).find(s => s.name === metric);
      if (!series) {
        continue;
      }
      const points: [number, number][] = [];
      series.steps.forEach((step, i) => {
        const value = series.values[i];
        if (typeof value === 'number' && isFinite(value)) {
          points.push([step, value]);
        }
      });
      const run = this.runs.find(r => r.id === id);
      curves.push({ label: run ? run.name : id, points });
    }
    this.chartHost.appendChild(lineChart(metric, curves));
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }
}

/** An SVG line chart; labels go in as text nodes, never as markup. */
function lineChart(title: string, curves: { label: string; points: [number, number][] }[]): SVGSVGElement {
  const width = 320;
  const height = 180;
  const pad = 30;
  const all = curves.flatMap(c => c.points);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 16 * curves.length}`);
  svg.setAttribute('class', 'mlnb-chart');
  const text = (x: number, y: number, content: string, fill = 'currentColor') => {
    const node = document.createElementNS(SVG, 'text');
    node.setAttribute('x', String(x));
    node.setAttribute('y', String(y));
    node.setAttribute('fill', fill);
    node.setAttribute('font-size', '10');
    node.textContent = content;
    svg.appendChild(node);
  };
  text(pad, 12, title);
  if (all.length === 0) {
    text(pad, height / 2, 'no finite values to plot');
    return svg;
  }
  const xs = all.map(p => p[0]);
  const ys = all.map(p => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (y: number) => height - pad - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  text(2, sy(y1) + 3, formatValue(y1));
  text(2, sy(y0) + 3, formatValue(y0));
  text(pad, height - pad + 14, String(x0));
  text(width - pad - 20, height - pad + 14, String(x1));
  curves.forEach((curve, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', colour);
    line.setAttribute('stroke-width', '1.5');
    line.setAttribute('points', curve.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '));
    svg.appendChild(line);
    text(pad, height + 12 + 16 * i, curve.label, colour);
  });
  return svg;
}
