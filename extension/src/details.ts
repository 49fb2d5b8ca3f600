import { MainAreaWidget } from '@jupyterlab/apputils';
import { launchIcon, refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { MetricChart } from './chart';
import { el, formatValue, humanBytes, humanDuration, humanTime } from './format';
import { runsIcon } from './icons';
import { requestAPI } from './request';
import { RunDetail, RunMetrics } from './types';

/** Lines of a cell's source shown before "…" (enough to recognise the cell). */
const CELL_LINES = 8;

/** Opens a file under the server's root in the lab. */
export type OpenPath = (path: string) => void;

/** `{a: {b: 1}}` as rows `a.b → 1`; lists and deeper values as compact JSON. */
export function flatten(value: unknown, prefix = '', depth = 0): [string, string][] {
  if (value && typeof value === 'object' && !Array.isArray(value) && depth < 3) {
    const rows: [string, string][] = [];
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      rows.push(...flatten(inner, prefix ? `${prefix}.${key}` : key, depth + 1));
    }
    return rows;
  }
  if (value === null || value === undefined) {
    return [[prefix, '—']];
  }
  const text = typeof value === 'string' ? value : typeof value === 'number' ? formatValue(value) : JSON.stringify(value);
  return [[prefix, text]];
}

function keyValueTable(rows: [string, string][], empty: string): HTMLElement {
  if (rows.length === 0) {
    return el('p', empty, 'mlnb-muted');
  }
  const table = el('table', undefined, 'mlnb-table mlnb-kv');
  const body = table.createTBody();
  for (const [key, value] of rows) {
    const row = body.insertRow();
    row.appendChild(el('th', key));
    row.appendChild(el('td', value));
  }
  return table;
}

function section(title: string, ...content: Node[]): HTMLElement {
  const node = el('section', undefined, 'mlnb-details-section');
  node.appendChild(el('h3', title));
  node.append(...content);
  return node;
}

/** The first {@link CELL_LINES} lines of a cell, with how many more there are. */
export function cellPreview(source: string): string {
  const lines = source.replace(/\s+$/, '').split('\n');
  if (lines.length <= CELL_LINES) {
    return lines.join('\n');
  }
  return `${lines.slice(0, CELL_LINES).join('\n')}\n… ${lines.length - CELL_LINES} more lines`;
}

/** One run in full: header, summary, config, metric curves, provenance, cell log, artifacts. */
export class RunDetailsView extends Panel {
  readonly chart = new MetricChart();
  detail: RunDetail | null = null;
  private body = new Widget();
  private rest = new Widget();

  constructor(
    readonly runId: string,
    private openPath: OpenPath
  ) {
    super();
    this.addClass('mlnb-RunDetails');
    this.body.addClass('mlnb-details-body');
    this.rest.addClass('mlnb-details-body');
    this.addWidget(this.body);
    this.addWidget(this.chart);
    this.addWidget(this.rest);
    this.body.node.appendChild(el('p', 'loading…', 'mlnb-muted'));
  }

  /** Fetch the run and its metrics and show them (errors as one sentence in the view). */
  async load(): Promise<void> {
    let detail: RunDetail;
    let metrics: RunMetrics;
    try {
      [detail, metrics] = await Promise.all([
        requestAPI<RunDetail>(`runs/${encodeURIComponent(this.runId)}`),
        requestAPI<RunMetrics>(`runs/${encodeURIComponent(this.runId)}/metrics`)
      ]);
    } catch (error) {
      this.body.node.replaceChildren(el('p', `run ${this.runId} unavailable: ${(error as Error).message}`, 'mlnb-error'));
      return;
    }
    this.detail = detail;
    this.render(detail, metrics.metrics.length > 0);
    this.chart.setRuns([{ id: detail.id, label: detail.name, series: metrics.metrics }]);
  }

  private render(run: RunDetail, hasMetrics: boolean): void {
    const head = el('div', undefined, 'mlnb-details-head');
    head.appendChild(el('h2', run.name, 'mlnb-details-name'));
    const facts = el('div', undefined, 'mlnb-details-facts');
    const status = el('span', run.status, `mlnb-status mlnb-status-${run.status.replace(/[^a-z]/g, '')}`);
    facts.append(
      status,
      el('span', `id ${run.id}`),
      el('span', `project ${run.project ?? '—'}`),
      el('span', `started ${humanTime(run.start_time)}`),
      el('span', `took ${humanDuration(run.duration)}`)
    );
    if (run.tags.length) {
      facts.appendChild(el('span', `tags ${run.tags.join(', ')}`));
    }
    head.appendChild(facts);
    const parts: Node[] = [head];
    if (run.message) {
      parts.push(el('p', run.message, 'mlnb-message'));
    }
    if (run.error) {
      parts.push(section('Error', el('pre', run.error, 'mlnb-error')));
    }
    parts.push(section('Summary', keyValueTable(flatten(run.summary), 'nothing recorded')));
    if (hasMetrics) {
      parts.push(el('h3', 'Metrics', 'mlnb-details-metrics'));
    }
    this.body.node.replaceChildren(...parts);
    this.rest.node.replaceChildren(
      section('Config', keyValueTable(flatten(run.config), 'no config')),
      section('Provenance', keyValueTable(flatten(run.provenance ?? {}), 'no provenance recorded')),
      section('Cell log', this.cellLog(run)),
      section('Artifacts', this.artifacts(run))
    );
  }

  private cellLog(run: RunDetail): Node {
    if (run.cells.length === 0) {
      return el('p', 'no notebook cells ran while this run was active', 'mlnb-muted');
    }
    const list = el('ol', undefined, 'mlnb-cell-log');
    for (const cell of run.cells) {
      const item = el('li', undefined, `mlnb-cell mlnb-cell-${cell.status.replace(/[^a-z]/g, '')}`);
      const count = cell.execution_count === null ? ' ' : String(cell.execution_count);
      item.appendChild(el('div', `[${count}] ${cell.status}`, 'mlnb-cell-head'));
      item.appendChild(el('pre', cellPreview(cell.source), 'mlnb-cell-source'));
      if (cell.error) {
        item.appendChild(el('pre', cell.error, 'mlnb-error'));
      }
      list.appendChild(item);
    }
    return list;
  }

  private artifacts(run: RunDetail): Node {
    if (run.artifacts.length === 0) {
      return el('p', 'no artifacts', 'mlnb-muted');
    }
    const table = el('table', undefined, 'mlnb-table');
    const head = table.createTHead().insertRow();
    for (const title of ['name', 'kind', 'size', '']) {
      head.appendChild(el('th', title));
    }
    const body = table.createTBody();
    for (const artifact of run.artifacts) {
      const row = body.insertRow();
      row.appendChild(el('td', artifact.name, 'mlnb-wrap'));
      row.appendChild(el('td', artifact.kind));
      row.appendChild(el('td', humanBytes(artifact.size), 'mlnb-nowrap'));
      const cell = el('td');
      const path = artifact.path;
      if (path) {
        const open = el('button', 'open', 'jp-mod-styled jp-mod-reject mlnb-small-button');
        open.addEventListener('click', () => this.openPath(path));
        cell.appendChild(open);
      }
      row.appendChild(cell);
    }
    return table;
  }
}

/** The run details view in a main-area tab, with toolbar actions to open its notebooks. */
export function createRunDetails(runId: string, openPath: OpenPath): MainAreaWidget<RunDetailsView> {
  const content = new RunDetailsView(runId, openPath);
  const widget = new MainAreaWidget({ content });
  widget.id = `mlnb-run-${runId}`;
  widget.title.label = `run ${runId}`;
  widget.title.icon = runsIcon;
  widget.title.closable = true;
  const openOutput = new ToolbarButton({
    icon: launchIcon,
    label: 'Open output notebook',
    tooltip: 'open the notebook this run executed or was logged from',
    className: 'mlnb-open-output',
    enabled: false,
    onClick: () => {
      const path = content.detail?.output_path ?? content.detail?.notebook_path;
      if (path) {
        openPath(path);
      }
    }
  });
  const reload = new ToolbarButton({
    icon: refreshIcon,
    tooltip: 'reload this run',
    onClick: () => void content.load()
  });
  widget.toolbar.addItem('open-output', openOutput);
  widget.toolbar.addItem('reload', reload);
  void content.load().then(() => {
    const detail = content.detail;
    if (detail) {
      widget.title.label = detail.name;
      widget.title.caption = `run ${detail.id}`;
      openOutput.enabled = Boolean(detail.output_path ?? detail.notebook_path);
    }
  });
  return widget;
}

const openViews = new Map<string, MainAreaWidget<RunDetailsView>>();

/** Show run `runId`'s details in the main area: the open tab if there is one, else a new one. */
export function showRunDetails(
  shell: { add(widget: Widget, area?: string): void; activateById(id: string): void },
  runId: string,
  openPath: OpenPath
): MainAreaWidget<RunDetailsView> {
  let view = openViews.get(runId);
  if (!view || view.isDisposed) {
    view = createRunDetails(runId, openPath);
    openViews.set(runId, view);
    view.disposed.connect(() => openViews.delete(runId));
    shell.add(view, 'main');
  }
  shell.activateById(view.id);
  return view;
}
