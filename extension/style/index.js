import 'uplot/dist/uPlot.min.css';
import './base.css';
import './gpuKernels.css';
import './chart.css';
import './details.css';
