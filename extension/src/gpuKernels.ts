import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { el, humanBytes, humanDuration } from './format';
import { ApiError, requestAPI } from './request';

/** One notebook's (or another process's) memory on one device, as `/mlnb/api/gpu/kernels` reports it. */
export interface KernelBar {
  kind: 'kernel' | 'process';
  label: string;
  used: number | null;
  pids: number[];
  kernel_id: string | null;
  path: string | null;
  idle_seconds: number | null;
  idle_holding: boolean;
  user: string | null;
  command: string | null;
  source: string;
}

export interface DeviceBars {
  index: number;
  name: string;
  total: number | null;
  used: number | null;
  uuid: string | null;
  parent: number | null;
  bars: KernelBar[];
}

export interface GpuKernels {
  devices: DeviceBars[];
  notes: string[];
  pids_visible: boolean;
  message: string;
}

type Action = 'interrupt' | 'shutdown' | 'free';

const ACTIONS: { action: Action; label: string; question: string; confirm: string }[] = [
  {
    action: 'interrupt',
    label: 'Interrupt',
    question: 'Interrupt the cell running in the kernel of',
    confirm: 'Interrupt'
  },
  {
    action: 'free',
    label: 'Free',
    question:
      "Run mlnb's free() in the kernel of: it drops the last traceback and cached outputs and empties the GPU cache. Continue for",
    confirm: 'Free memory'
  },
  {
    action: 'shutdown',
    label: 'Shut down',
    question: 'Shut down the kernel (its variables are lost) of',
    confirm: 'Shut down'
  }
];

function barTitle(bar: KernelBar): string {
  if (bar.kind === 'kernel') {
    return bar.path ?? bar.label;
  }
  return bar.command ? `another process (${bar.command})` : 'another process';
}

function idleText(bar: KernelBar): string {
  if (bar.kind !== 'kernel' || bar.idle_seconds === null) {
    return bar.user ? `user ${bar.user}` : '';
  }
  const idle = bar.idle_seconds === 0 ? 'busy' : `idle ${humanDuration(bar.idle_seconds)}`;
  return bar.idle_holding ? `${idle} — holding memory` : idle;
}

/** Per device, one bar per notebook with its memory and idle time; interrupt, free or shut down its kernel. */
export class GpuKernelsView extends Widget {
  data: GpuKernels | null = null;
  error: ApiError | null = null;
  status = '';
  readonly poll: Poll;

  constructor(intervalMs = 3000) {
    super();
    this.addClass('mlnb-GpuKernelsView');
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: intervalMs, backoff: true, max: 60 * 1000 },
      standby: 'when-hidden'
    });
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      this.data = await requestAPI<GpuKernels>('gpu/kernels');
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error : new ApiError(String(error), 0);
    }
    this.render();
    if (this.error) {
      throw this.error; // lets the poll back off
    }
  }

  async act(bar: KernelBar, action: Action): Promise<void> {
    const spec = ACTIONS.find(a => a.action === action)!;
    const result = await showDialog({
      title: `${spec.label} — ${barTitle(bar)}`,
      body: `${spec.question} ${barTitle(bar)} (${humanBytes(bar.used)} on the GPU)?`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: spec.confirm })]
    });
    if (!result.button.accept || !bar.kernel_id) {
      return;
    }
    try {
      const reply = await requestAPI<{ message: string }>(
        `gpu/kernels/${encodeURIComponent(bar.kernel_id)}/${action}`,
        { method: 'POST', body: '{}' }
      );
      this.status = `${barTitle(bar)}: ${reply.message}`;
    } catch (error) {
      this.status = `${barTitle(bar)}: ${error instanceof Error ? error.message : String(error)}`;
    }
    await this.poll.refresh();
  }

  render(): void {
    const node = this.node;
    node.replaceChildren(el('h2', 'GPU memory by notebook'));
    if (this.status) {
      node.appendChild(el('p', this.status, 'mlnb-gpuk-status'));
    }
    if (this.error) {
      node.appendChild(el('p', this.error.message, 'mlnb-error'));
      return;
    }
    if (!this.data) {
      node.appendChild(el('p', 'waiting for the first reading…'));
      return;
    }
    for (const text of [this.data.message, ...this.data.notes].filter(Boolean)) {
      node.appendChild(el('p', text, 'mlnb-message'));
    }
    for (const device of this.data.devices) {
      node.appendChild(this.renderDevice(device));
    }
  }

  private renderDevice(device: DeviceBars): HTMLElement {
    const section = el('section', undefined, 'mlnb-gpuk-device');
    section.dataset.index = String(device.index);
    const mig = device.parent === null ? '' : ` (MIG on GPU${device.parent})`;
    section.appendChild(
      el('h3', `GPU${device.index} ${device.name}${mig} — ${humanBytes(device.used)} / ${humanBytes(device.total)}`)
    );
    if (device.bars.length === 0) {
      section.appendChild(el('p', 'no process holds memory on this device', 'mlnb-message'));
    }
    for (const bar of device.bars) {
      section.appendChild(this.renderBar(bar, device.total));
    }
    return section;
  }

  private renderBar(bar: KernelBar, total: number | null): HTMLElement {
    const row = el('div', undefined, 'mlnb-gpuk-row');
    row.dataset.kind = bar.kind;
    if (bar.kernel_id) {
      row.dataset.kernelId = bar.kernel_id;
    }
    if (bar.idle_holding) {
      row.classList.add('mlnb-gpuk-idle');
    }
    row.appendChild(el('span', barTitle(bar), 'mlnb-gpuk-label'));
    const track = el('span', undefined, 'mlnb-gpuk-track');
    const fill = el('span', undefined, 'mlnb-gpuk-fill');
    const share = total && bar.used !== null ? Math.min(100, (100 * bar.used) / total) : 0;
    fill.style.width = `${share.toFixed(1)}%`;
    track.appendChild(fill);
    row.appendChild(track);
    row.appendChild(el('span', humanBytes(bar.used), 'mlnb-gpuk-memory'));
    row.appendChild(el('span', idleText(bar), 'mlnb-gpuk-idle-time'));
    row.title = `pids ${bar.pids.join(', ')} · from ${bar.source}`;
    if (bar.kind === 'kernel' && bar.kernel_id) {
      for (const spec of ACTIONS) {
        const button = el('button', spec.label, `jp-Button mlnb-gpuk-${spec.action}`);
        button.addEventListener('click', () => void this.act(bar, spec.action));
        row.appendChild(button);
      }
    }
    return row;
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }
}

export function createGpuKernelsView(): MainAreaWidget<GpuKernelsView> {
  const widget = new MainAreaWidget({ content: new GpuKernelsView() });
  widget.id = 'mlnb-gpu-kernels-view';
  widget.title.label = 'GPU by notebook';
  widget.title.closable = true;
  return widget;
}

export const OPEN_GPU_KERNELS = 'mlnb:open-gpu-kernels';

/** Adds the "mlnb: GPU memory by notebook" command (and its palette entry). */
export function registerGpuKernels(app: JupyterFrontEnd, palette: ICommandPalette | null): void {
  let view: MainAreaWidget<GpuKernelsView> | null = null;
  app.commands.addCommand(OPEN_GPU_KERNELS, {
    label: 'mlnb: GPU memory by notebook',
    execute: () => {
      if (!view || view.isDisposed) {
        view = createGpuKernelsView();
        app.shell.add(view, 'main');
      }
      app.shell.activateById(view.id);
    }
  });
  if (palette) {
    palette.addItem({ command: OPEN_GPU_KERNELS, category: 'mlnb' });
  }
}
