import 'uplot/dist/uPlot.min.css';
import './base.css';
import './chart.css';
import './details.css';
