import { LabIcon } from '@jupyterlab/ui-components';

import runsSvg from '../style/icons/runs.svg';

/** The Runs panel's sidebar icon: axes and a falling loss curve (themed via `jp-icon3`). */
export const runsIcon = new LabIcon({ name: 'mlnb-lab:runs', svgstr: runsSvg });
