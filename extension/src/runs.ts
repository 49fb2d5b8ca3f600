import { launchIcon, refreshIcon, Toolbar, ToolbarButton } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import { Panel, Widget } from '@lumino/widgets';

import { MetricChart } from './chart';
import { compactTime, el, formatValue, humanDuration, humanTime, orderMetrics } from './format';
import { runsIcon } from './icons';
import { ApiError, requestAPI } from './request';
import { MetricSeries, RunList, RunMetrics, RunSummary } from './types';

type SortKey = 'name' | 'project' | 'status' | 'start_time' | 'duration';

/** What the panel asks of the app: open a file, show one run's details. */
export interface RunsActions {
  openPath: (path: string) => void;
  openRun: (id: string) => void;
}

/** Columns after the tick box and the name; `className` lets the layout drop them when narrow. */
const COLUMNS: [string, SortKey, string][] = [
  ['status', 'status', 'mlnb-col-status'],
  ['project', 'project', 'mlnb-col-project'],
  ['start', 'start_time', 'mlnb-col-start'],
  ['duration', 'duration', 'mlnb-col-duration']
];

function statusClass(status: string): string {
  return `mlnb-status-${status.replace(/[^a-z]/g, '')}`;
}

/**
 * The "Runs" side panel in JupyterLab's look: a toolbar (filter, refresh), the count, the
 * metric chart of the ticked runs that the filter shows, and the table. The table drops
 * columns as the sidebar narrows (CSS container queries); the open action stays in view.
 */
export class RunsPanel extends Panel {
  runs: RunSummary[] = [];
  selected = new Set<string>();
  sortKey: SortKey = 'start_time';
  sortDescending = true;
  lastRenderMs = 0;
  readonly poll: Poll;
  readonly chart = new MetricChart();
  private filterInput = el('input', undefined, 'jp-mod-styled mlnb-runs-filter');
  private statusLine = el('div', '', 'mlnb-runs-status');
  private tableHost = new Widget();
  private total = 0;
  private listNote = '';
  private metrics = new Map<string, MetricSeries[]>();
  private openTemplate = launchIcon.element({ tag: 'span', className: 'mlnb-icon' });

  constructor(private actions: RunsActions) {
    super();
    this.id = 'mlnb-runs-panel';
    this.addClass('mlnb-RunsPanel');
    this.title.caption = 'mlnb runs';
    this.title.icon = runsIcon;
    this.filterInput.placeholder = 'filter runs';
    this.filterInput.title = 'filter by name, project, status or id';
    this.filterInput.setAttribute('aria-label', 'filter runs');
    this.filterInput.addEventListener('input', () => this.onFilter());

    const toolbar = new Toolbar();
    toolbar.addClass('mlnb-runs-toolbar');
    const filter = new Widget({ node: el('div', undefined, 'mlnb-runs-filter-box') });
    filter.node.appendChild(this.filterInput);
    toolbar.addItem('filter', filter);
    toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'refresh the runs now',
        className: 'mlnb-runs-refresh',
        onClick: () => void this.poll.refresh()
      })
    );
    const body = new Panel();
    body.addClass('mlnb-runs-body');
    body.node.appendChild(this.statusLine);
    this.tableHost.addClass('mlnb-runs-table');
    body.addWidget(this.chart);
    body.addWidget(this.tableHost);
    this.addWidget(toolbar);
    this.addWidget(body);
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
    this.total = list.total;
    this.listNote = list.message;
    this.statusLine.dataset.state = 'ok';
    this.renderTable();
    for (const id of this.selected) {
      if (this.runs.find(run => run.id === id)?.status === 'running' || !this.metrics.has(id)) {
        await this.loadMetrics(id);
      }
    }
    this.renderChart();
    // nothing is being written: slow down until the user asks or a run starts
    this.poll.frequency = { ...this.poll.frequency, interval: this.live ? 3000 : 15000 };
  }

  private onFilter(): void {
    this.renderTable();
    this.renderChart();
  }

  /** The count line: every run, or how many of them the filter shows. */
  private renderStatus(shown: number): void {
    const needle = this.filterInput.value.trim();
    const plural = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
    const newest = this.runs.length < this.total ? ` (showing the newest ${this.runs.length})` : '';
    let text: string;
    if (needle) {
      const of = this.runs.length < this.total ? `the newest ${this.runs.length} runs` : plural(this.runs.length);
      text = `${shown} of ${of} match`;
    } else {
      text = this.listNote && this.runs.length === 0 ? this.listNote : `${plural(this.total)}${newest}`;
    }
    this.statusLine.textContent = `${text}${this.live ? ' · live' : ''}`;
  }

  visibleRuns(): RunSummary[] {
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

  private header(metricKeys: string[]): HTMLTableSectionElement {
    const head = document.createElement('thead');
    const row = head.insertRow();
    row.appendChild(el('th', '', 'mlnb-col-pick'));
    const sortable: [string, SortKey, string][] = [['name', 'name', 'mlnb-col-name'], ...COLUMNS];
    for (const [title, key, className] of sortable) {
      const arrow = key === this.sortKey ? (this.sortDescending ? ' ▾' : ' ▴') : '';
      const th = el('th', title + arrow, `${className} mlnb-sortable`);
      th.title = `sort by ${title}`;
      th.addEventListener('click', () => {
        this.sortDescending = this.sortKey === key ? !this.sortDescending : false;
        this.sortKey = key;
        this.renderTable();
      });
      row.appendChild(th);
    }
    metricKeys.forEach((key, i) => row.appendChild(el('th', key, `mlnb-col-metric mlnb-metric-${i}`)));
    row.appendChild(el('th', '', 'mlnb-col-open'));
    return head;
  }

  private row(run: RunSummary, metricKeys: string[]): HTMLTableRowElement {
    const row = document.createElement('tr');
    row.dataset.runId = run.id;
    const pick = el('input', undefined, 'mlnb-run-pick');
    pick.type = 'checkbox';
    pick.checked = this.selected.has(run.id);
    pick.setAttribute('aria-label', `chart ${run.name}`);
    pick.addEventListener('change', () => void this.toggle(run.id, pick.checked));
    row.appendChild(el('td', undefined, 'mlnb-col-pick')).appendChild(pick);
    const nameCell = el('td', undefined, 'mlnb-col-name');
    const dot = el('span', undefined, `mlnb-dot ${statusClass(run.status)}`);
    dot.title = run.status;
    const name = el('button', undefined, 'mlnb-run-name');
    name.append(dot, run.name); // the dot inside, so a wrapped name keeps it on its first line
    name.title = `details of ${run.id}`;
    name.addEventListener('click', () => this.actions.openRun(run.id));
    nameCell.appendChild(name);
    row.appendChild(nameCell);
    row.appendChild(el('td', run.status, `mlnb-col-status mlnb-status ${statusClass(run.status)}`));
    row.appendChild(el('td', run.project ?? '—', 'mlnb-col-project'));
    const start = el('td', compactTime(run.start_time), 'mlnb-col-start');
    start.title = humanTime(run.start_time);
    row.appendChild(start);
    row.appendChild(el('td', humanDuration(run.duration), 'mlnb-col-duration'));
    metricKeys.forEach((key, i) =>
      row.appendChild(el('td', formatValue(run.summary[key]), `mlnb-col-metric mlnb-metric-${i}`))
    );
    const actions = el('td', undefined, 'mlnb-col-open');
    const path = run.output_path ?? run.notebook_path;
    if (path) {
      const open = el('button', undefined, 'mlnb-run-open mlnb-icon-button');
      open.title = `open ${path}`;
      open.setAttribute('aria-label', `open ${path}`);
      open.appendChild(this.openTemplate.cloneNode(true));
      open.addEventListener('click', () => this.actions.openPath(path));
      actions.appendChild(open);
    }
    row.appendChild(actions);
    return row;
  }

  renderTable(): void {
    const started = performance.now();
    const metricKeys = this.summaryKeys();
    const visible = this.visibleRuns();
    this.renderStatus(visible.length);
    if (visible.length === 0 && this.runs.length > 0) {
      const message = el('p', `no runs match “${this.filterInput.value.trim()}”`, 'mlnb-runs-empty');
      this.tableHost.node.replaceChildren(message);
      return;
    }
    const table = el('table', undefined, 'mlnb-table mlnb-runs');
    table.appendChild(this.header(metricKeys));
    const body = table.createTBody();
    const fragment = document.createDocumentFragment();
    for (const run of visible) {
      fragment.appendChild(this.row(run, metricKeys));
    }
    body.appendChild(fragment);
    this.tableHost.node.replaceChildren(table);
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

  /** Chart the ticked runs the filter shows (a filtered-out run leaves the chart). */
  renderChart(): void {
    const shown = this.visibleRuns().filter(run => this.selected.has(run.id));
    this.chart.setRuns(
      shown.map(run => ({ id: run.id, label: run.name, series: this.metrics.get(run.id) ?? [] }))
    );
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }
}
