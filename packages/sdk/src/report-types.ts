import type { TimeBound } from './types.js';

/** Reports as the hub's API shows them (`/api/v1/reports`, docs/reports.md). */

/** Body of `POST /api/v1/reports`. */
export interface ReportRequest {
  scope: 'fleet' | 'device';
  /** The device, with scope `device`. */
  device?: string;
  /** Label selector of the devices, with scope `fleet` (absent: every device). */
  selector?: string;
  from: TimeBound;
  /** Default and latest: now. */
  to?: TimeBound;
  metrics?: { battery?: string; temperature?: string };
  thresholds?: { batteryBelow?: number; temperatureAbove?: number; offlineAbove?: number };
}

export type ReportStatus = 'pending' | 'ready' | 'failed';

export interface ReportSummary {
  text: string;
  /** `llm` when the configured provider wrote it. */
  source: 'llm' | 'deterministic';
  model: string | null;
  /** Why the deterministic summary stands in for the model's. */
  note: string | null;
}

export interface DeviceUptime {
  device: string;
  name: string;
  onlineMs: number;
  measuredMs: number;
  fraction: number | null;
  connects: number;
}

export interface MetricStatistics {
  metric: string;
  source: 'rollup_1m' | 'rollup_1h';
  from: number;
  to: number;
  bucketMs: number;
  points: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  threshold: number;
  flagged: string[];
  devices: { device: string; min: number; avg: number; max: number; points: number }[];
  series: { ts: number; min: number; avg: number; max: number }[];
}

export interface DeviceActivity {
  device: string;
  commands: number;
  telemetryPoints: number;
}

export interface ReportStatistics {
  version: 1;
  scope: 'fleet' | 'device';
  device: string | null;
  selector: string | null;
  from: number;
  to: number;
  generatedAt: number;
  thresholds: { batteryBelow: number; temperatureAbove: number; offlineAbove: number };
  devices: number;
  uptime: {
    fraction: number | null;
    onlineMs: number;
    measuredMs: number;
    devices: DeviceUptime[];
    offlineWholeRange: string[];
    overThreshold: string[];
  };
  alerts: {
    available: boolean;
    note: string | null;
    total: number;
    open: number;
    bySeverity: Record<string, number>;
    longest: {
      id: string;
      rule: string;
      device: string | null;
      severity: string;
      firedAt: number;
      resolvedAt: number | null;
      durationMs: number;
    } | null;
    byDevice: { device: string; count: number }[];
  };
  battery: MetricStatistics;
  temperature: MetricStatistics;
  activity: {
    commands: {
      issued: number;
      succeeded: number;
      failed: number;
      timedOut: number;
      cancelled: number;
      open: number;
      successRate: number | null;
    };
    telemetryPoints: number;
    byCommands: DeviceActivity[];
    byTelemetry: DeviceActivity[];
  };
}

export interface Report {
  id: string;
  scope: 'fleet' | 'device';
  device: string | null;
  selector: string | null;
  from: number;
  to: number;
  metrics: { battery: string; temperature: string };
  thresholds: { batteryBelow: number; temperatureAbove: number; offlineAbove: number };
  status: ReportStatus;
  /** Why generation failed. */
  error: string | null;
  createdBy: string;
  createdAt: number;
  completedAt: number | null;
  summary: ReportSummary | null;
  /** In `getReport`'s answer once ready; never in listings. */
  statistics?: ReportStatistics | null;
  links: { self: string; html: string; pdf: string };
}
