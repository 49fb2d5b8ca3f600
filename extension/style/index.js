import './base.css';
import './gpuKernels.css';
