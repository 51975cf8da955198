import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '@flotilla/protocol';
import type { RetentionCutoffs, RetentionResult } from '../storage/telemetry-types.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import type { TelemetryMetrics } from './metrics.js';
import type { ResolvedTelemetrySettings } from './settings.js';

/** Retention deletes are heavier than rollups and nothing needs them to the second. */
export const RETENTION_EVERY_MS = 10 * 60_000;
/** Dedup records outlive the oldest acceptable `ts` by this much (clock steps during a pass). */
const SEEN_MARGIN_MS = 60_000;

export interface MaintenancePass {
  /** Device-minutes rolled up. */
  rolledUp: number;
  /** Undefined when retention was not due. */
  retention: RetentionResult | undefined;
  /** Rows each extra retention task deleted, by task name; empty when retention was not due. */
  extra: Record<string, number>;
}

/** Retention of another kind of data, run with telemetry's (device logs): deletes what is past it at `now`. */
export interface RetentionTask {
  /** Label of the task in `flotilla_telemetry_maintenance_seconds{task}` and in `MaintenancePass.extra`. */
  readonly name: string;
  run(now: number): Promise<number>;
}

export interface TelemetryMaintenanceOptions {
  store: Pick<TelemetryStore, 'rollup' | 'retain'>;
  settings: Pick<
    ResolvedTelemetrySettings,
    'rawRetentionMs' | 'rollup1mRetentionMs' | 'rollup1hRetentionMs' | 'maintenanceIntervalMs' | 'maxPastMs'
  >;
  clock?: Clock;
  metrics?: TelemetryMetrics;
  logger?: Logger;
  /** Run in every retention pass, after telemetry's; a failing task is logged and does not stop the others. */
  retentionTasks?: readonly RetentionTask[];
}

/**
 * The background job: every `maintenanceIntervalMs` it rolls up the minutes written since the
 * last pass (1 min and 1 h rollups), and every RETENTION_EVERY_MS it deletes what is past
 * retention. One pass at a time; a tick that finds one running is skipped. Failures are logged
 * and the next tick tries again (dirty minutes stay marked until a pass succeeds).
 */
export class TelemetryMaintenanceJob {
  readonly #store: TelemetryMaintenanceOptions['store'];
  readonly #settings: TelemetryMaintenanceOptions['settings'];
  readonly #clock: Clock;
  readonly #metrics: TelemetryMetrics | undefined;
  readonly #log: Logger;
  readonly #tasks: readonly RetentionTask[];
  #timer: TimerHandle | undefined;
  #running: Promise<MaintenancePass> | undefined;
  #lastRetention: number | undefined;

  constructor(options: TelemetryMaintenanceOptions) {
    this.#store = options.store;
    this.#settings = options.settings;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
    this.#log = options.logger ?? pino({ enabled: false });
    this.#tasks = options.retentionTasks ?? [];
  }

  start(): void {
    this.#timer ??= this.#clock.setInterval(() => {
      if (this.#running) return;
      this.run().catch((err: unknown) => this.#log.error({ err }, 'telemetry maintenance failed'));
    }, this.#settings.maintenanceIntervalMs);
  }

  /** One pass now (or the one already running). */
  run(): Promise<MaintenancePass> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.idle();
  }

  /** What a pass at `now` deletes. */
  cutoffs(now: number): RetentionCutoffs {
    return {
      raw: now - this.#settings.rawRetentionMs,
      rollup1m: now - this.#settings.rollup1mRetentionMs,
      rollup1h: now - this.#settings.rollup1hRetentionMs,
      // A replay older than maxPastMs is refused as too old, so its record is no longer needed.
      seen: now - this.#settings.maxPastMs - SEEN_MARGIN_MS,
    };
  }

  async #pass(): Promise<MaintenancePass> {
    const now = this.#clock.now();
    const cutoffs = this.cutoffs(now);
    let started = performance.now();
    const rolledUp = await this.#store.rollup(cutoffs.raw);
    this.#metrics?.maintenanceSeconds.observe({ task: 'rollup' }, (performance.now() - started) / 1000);
    let retention: RetentionResult | undefined;
    const extra: Record<string, number> = {};
    if (this.#lastRetention === undefined || now - this.#lastRetention >= RETENTION_EVERY_MS) {
      started = performance.now();
      retention = await this.#store.retain(cutoffs);
      this.#lastRetention = now;
      this.#metrics?.maintenanceSeconds.observe({ task: 'retention' }, (performance.now() - started) / 1000);
      this.#log.debug({ ...retention }, 'telemetry retention pass');
      for (const task of this.#tasks) {
        started = performance.now();
        try {
          extra[task.name] = await task.run(now);
        } catch (err) {
          this.#log.error({ err, task: task.name }, 'retention task failed');
        }
        this.#metrics?.maintenanceSeconds.observe({ task: task.name }, (performance.now() - started) / 1000);
      }
    }
    return { rolledUp, retention, extra };
  }
}
