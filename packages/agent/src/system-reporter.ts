import type { Clock, TimerHandle } from '@flotilla/protocol';
import { ChangeFilter } from './change-filter.js';
import { SystemMetricNames, SystemMetricsSampler } from './system-metrics.js';

/** Smallest move worth pushing before the max interval; smaller moves are noise. */
export const SYSTEM_METRIC_THRESHOLDS: Readonly<Record<string, number>> = {
  [SystemMetricNames.cpu]: 5, // percentage points
  [SystemMetricNames.memory]: 2,
  [SystemMetricNames.disk]: 1,
  [SystemMetricNames.temperature]: 2, // °C
  [SystemMetricNames.load]: 0.5,
  [SystemMetricNames.uptime]: Infinity, // always moving; only the max interval refreshes it
};

export interface SystemReporterOptions {
  clock: Clock;
  /** How often to sample (ms). */
  intervalMs: number;
  /** Longest a metric goes unsent (ms). */
  maxIntervalMs: number;
  thermalDir?: string;
}

/**
 * Samples the host on a timer while a session is up and pushes what changed. Created when the
 * agent starts, so the first CPU reading of the first session already has a baseline.
 */
export class SystemMetricsReporter {
  private readonly sampler: SystemMetricsSampler;
  private readonly filter: ChangeFilter;
  private timer: TimerHandle | undefined;

  constructor(private readonly options: SystemReporterOptions) {
    this.sampler = new SystemMetricsSampler(options.thermalDir === undefined ? {} : { thermalDir: options.thermalDir });
    this.filter = new ChangeFilter({ maxIntervalMs: options.maxIntervalMs, thresholds: SYSTEM_METRIC_THRESHOLDS });
  }

  /** A new session: report everything now (the hub's view may be stale), then changes. */
  start(send: (metrics: Record<string, number>) => void): void {
    this.stop();
    this.filter.reset();
    this.report(send);
    this.timer = this.options.clock.setInterval(() => this.report(send), this.options.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private report(send: (metrics: Record<string, number>) => void): void {
    const changed = this.filter.filter(this.options.clock.now(), this.sampler.sample());
    if (changed) send(changed);
  }
}
