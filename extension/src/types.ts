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
  /** Unix seconds each point was logged at. */
  times: number[];
}

export interface RunMetrics {
  run_id: string;
  metrics: MetricSeries[];
}

export interface ServerInfo {
  version: string;
  store: string;
}

/** One notebook cell that ran while the run was active. */
export interface CellEntry {
  seq: number;
  execution_count: number | null;
  source: string;
  status: string;
  started: number | null;
  ended: number | null;
  error: string | null;
}

/** A file stored beside a run; `path` is set only when it lies under the server's root. */
export interface ArtifactEntry {
  name: string;
  kind: string;
  size: number;
  created: number;
  path: string | null;
}

/** `GET /mlnb/api/runs/<id>`: one run in full. */
export interface RunDetail extends RunSummary {
  host: string | null;
  config: Record<string, unknown>;
  tags: string[];
  provenance: Record<string, unknown> | null;
  error: string | null;
  cells: CellEntry[];
  artifacts: ArtifactEntry[];
  message: string;
}
