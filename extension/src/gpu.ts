import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { el, humanBytes } from './format';
import { ApiError, requestAPI } from './request';
import { sparklineSvg } from './spark';
import { DeviceStatus, GpuSnapshot } from './types';

/** Polls `/mlnb/api/gpu` and tells its views when a new snapshot (or an error) arrives. */
export class GpuModel {
  snapshot: GpuSnapshot | null = null;
  error: ApiError | null = null;
  readonly poll: Poll;
  private _changed = new Signal<this, void>(this);

  constructor(intervalMs = 2000) {
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: intervalMs, backoff: true, max: 60 * 1000 },
      standby: 'when-hidden'
    });
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    try {
      this.snapshot = await requestAPI<GpuSnapshot>('gpu');
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error : new ApiError(String(error), 0);
      if (this.error.missing) {
        // the server part is absent: say so once and stop asking
        this._changed.emit();
        void this.poll.stop();
        return;
      }
    }
    this._changed.emit();
    if (this.error) {
      throw this.error; // lets the poll back off
    }
  }

  dispose(): void {
    this.poll.dispose();
  }
}

function deviceText(device: DeviceStatus): string {
  const memory = `${humanBytes(device.memory_used)} / ${humanBytes(device.memory_total)}`;
  if (device.kind === 'host') {
    return `RAM ${memory} (no GPU)`;
  }
  const util = device.utilization === null ? '' : ` · ${Math.round(device.utilization)}%`;
  return `GPU${device.index} ${memory}${util}`;
}

/** The one-line status-bar text for a snapshot or an error. */
export function statusText(model: GpuModel): string {
  if (model.error) {
    return model.error.missing ? 'mlnb: server extension not enabled' : 'mlnb: GPU status unavailable';
  }
  if (!model.snapshot) {
    return 'mlnb: …';
  }
  return model.snapshot.devices.map(deviceText).join('  ') || 'no devices';
}

/** Utilisation readings the status-bar sparkline keeps. */
const SPARK_POINTS = 30;

/**
 * The status-bar item: memory used/total and utilisation per device, in the status bar's own
 * text style (so it lines up with its neighbours), and a sparkline of the first GPU's
 * utilisation; click opens the GPU view.
 */
export class GpuStatusItem extends Widget {
  private text = el('span', '', 'jp-StatusBar-TextItem mlnb-GpuStatusItem-text');
  private history: (number | null)[] = [];

  constructor(
    private model: GpuModel,
    onClick: () => void
  ) {
    super();
    this.addClass('mlnb-GpuStatusItem');
    this.node.title = 'mlnb: GPU memory — click for details';
    this.node.addEventListener('click', onClick);
    model.changed.connect(this.render, this);
    this.render();
  }

  render(): void {
    this.text.textContent = statusText(this.model);
    this.node.dataset.state = this.model.error ? 'error' : 'ok';
    const gpu = this.model.snapshot?.devices.find(d => d.kind === 'gpu');
    if (gpu && gpu.utilization !== null && !this.model.error) {
      this.history = [...this.history, gpu.utilization].slice(-SPARK_POINTS);
    }
    const children: Node[] = [this.text];
    if (this.history.length) {
      children.push(sparklineSvg(this.history));
    }
    this.node.replaceChildren(...children);
  }
}

const COLUMNS: [string, (d: DeviceStatus) => string][] = [
  ['device', d => (d.kind === 'host' ? 'host' : `GPU${d.index}`)],
  ['name', d => d.name],
  ['memory used', d => humanBytes(d.memory_used)],
  ['memory total', d => humanBytes(d.memory_total)],
  ['used', d => (d.memory_total ? `${((100 * d.memory_used) / d.memory_total).toFixed(1)}%` : '—')],
  ['utilisation', d => (d.utilization === null ? '—' : `${Math.round(d.utilization)}%`)],
  ['temperature', d => (d.temperature === null ? '—' : `${d.temperature} °C`)],
  ['power', d => (d.power_watts === null ? '—' : `${d.power_watts.toFixed(0)} W`)],
  ['source', d => d.backend]
];

/** The notebook-independent GPU view opened from the status-bar item. */
export class GpuView extends Widget {
  constructor(private model: GpuModel) {
    super();
    this.addClass('mlnb-GpuView');
    model.changed.connect(this.render, this);
    this.render();
  }

  render(): void {
    const node = this.node;
    node.replaceChildren();
    node.appendChild(el('h2', 'GPU memory'));
    if (this.model.error) {
      node.appendChild(el('p', this.model.error.message, 'mlnb-error'));
      return;
    }
    const snapshot = this.model.snapshot;
    if (!snapshot) {
      node.appendChild(el('p', 'waiting for the first reading…'));
      return;
    }
    if (snapshot.message) {
      node.appendChild(el('p', snapshot.message, 'mlnb-message'));
    }
    const table = el('table', undefined, 'mlnb-table');
    const head = table.createTHead().insertRow();
    for (const [title] of COLUMNS) {
      head.appendChild(el('th', title));
    }
    const body = table.createTBody();
    for (const device of snapshot.devices) {
      const row = body.insertRow();
      for (const [, cell] of COLUMNS) {
        row.appendChild(el('td', cell(device)));
      }
    }
    node.appendChild(table);
  }
}

export function createGpuView(model: GpuModel): MainAreaWidget<GpuView> {
  const widget = new MainAreaWidget({ content: new GpuView(model) });
  widget.id = 'mlnb-gpu-view';
  widget.title.label = 'GPU memory';
  widget.title.closable = true;
  return widget;
}
