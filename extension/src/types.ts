/** One GPU, or the host when there is none, as `/mlnb/api/gpu` reports it. */
export interface DeviceStatus {
  index: number;
  name: string;
  kind: 'gpu' | 'host';
  memory_used: number;
  memory_total: number;
  utilization: number | null;
  temperature: number | null;
  power_watts: number | null;
  backend: string;
}

export interface GpuSnapshot {
  gpu_available: boolean;
  devices: DeviceStatus[];
  message: string;
}

export interface RunSummary {
  id: string;
  name: string;
  project: string | null;
  status: string;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  summary: Record<string, number | string | null>;
  notebook_path: string | null;
  output_path: string | null;
}

export interface RunList {
  runs: RunSummary[];
  total: number;
  store: string;
  message: string;
}

/** One metric's curve; NaN and infinities arrive as the strings "nan", "inf", "-inf". */
export interface MetricSeries {
  name: string;
  steps: number[];
  values: (number | string)[];
}

export interface RunMetrics {
  run_id: string;
  metrics: MetricSeries[];
}

export interface ServerInfo {
  version: string;
  store: string;
}
