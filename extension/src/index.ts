import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';

import { GpuModel, GpuStatusItem, GpuView, createGpuView } from './gpu';
import { registerGpuKernels } from './gpuKernels';
import { showRunDetails } from './details';
import { RunsPanel } from './runs';

const OPEN_GPU_VIEW = 'mlnb:open-gpu-view';
const OPEN_RUNS = 'mlnb:open-runs';

/** mlnb in JupyterLab: GPU status-bar item, GPU view and the Runs side panel. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'mlnb-lab:plugin',
  description: 'GPU memory in the status bar and a panel of mlnb runs.',
  autoStart: true,
  optional: [IStatusBar, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const gpu = new GpuModel();
    let view: MainAreaWidget<GpuView> | null = null;

    app.commands.addCommand(OPEN_GPU_VIEW, {
      label: 'mlnb: GPU memory',
      execute: () => {
        if (!view || view.isDisposed) {
          view = createGpuView(gpu);
          app.shell.add(view, 'main');
        }
        app.shell.activateById(view.id);
      }
    });

    registerGpuKernels(app, palette);

    const openPath = (path: string) => void app.commands.execute('docmanager:open', { path });
    const runs = new RunsPanel({ openPath, openRun: id => showRunDetails(app.shell, id, openPath) });
    app.shell.add(runs, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(runs, runs.id);
    }
    app.commands.addCommand(OPEN_RUNS, {
      label: 'mlnb: Runs',
      execute: () => app.shell.activateById(runs.id)
    });

    if (statusBar) {
      const item = new GpuStatusItem(gpu, () => void app.commands.execute(OPEN_GPU_VIEW));
      statusBar.registerStatusItem('mlnb-lab:gpu-status', {
        item,
        align: 'left',
        rank: 100,
        isActive: () => true
      });
    }
    if (palette) {
      palette.addItem({ command: OPEN_GPU_VIEW, category: 'mlnb' });
      palette.addItem({ command: OPEN_RUNS, category: 'mlnb' });
    }
  }
};

export default plugin;
