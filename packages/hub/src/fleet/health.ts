import { pino, type Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '@flotilla/protocol';
import type { AlertStore } from '../storage/alerts.js';
import type { FleetHealthSample, FleetHealthStore } from '../storage/fleet-health.js';

/**
 * Fleet health over time (docs/console.md): every `intervalMs` the hub counts the devices online,
 * offline and alerting (with an open alert: firing or acknowledged) and stores the counts, so the
 * console's chart can show the hours before a page was opened. Samples older than `retentionMs`
 * are deleted as new ones come in.
 *
 * With several hubs on NATS only the leader samples (`lead` / `follow`, as the alert evaluator):
 * every hub sees the whole fleet, so one series is enough and two would interleave.
 */

export interface FleetHealthSettings {
  /** How often the counts are sampled (ms, default 30 s). */
  intervalMs: number;
  /** How long samples are kept (ms, default 30 days). */
  retentionMs: number;
}

export const FLEET_HEALTH_DEFAULTS: FleetHealthSettings = {
  intervalMs: 30_000,
  retentionMs: 30 * 86_400_000,
};

/** Retention deletes run at most this often: nothing needs them to the sample. */
const RETENTION_EVERY_MS = 10 * 60_000;

export interface FleetHealthSamplerOptions {
  registry: { list(): ReadonlyArray<{ id: string; status: { online: boolean } }> };
  alerts: Pick<AlertStore, 'openAlerts'>;
  store: Pick<FleetHealthStore, 'record' | 'retain'>;
  settings?: Partial<FleetHealthSettings>;
  clock?: Clock;
  logger?: Logger;
}

export class FleetHealthSampler {
  readonly settings: FleetHealthSettings;
  readonly #registry: FleetHealthSamplerOptions['registry'];
  readonly #alerts: FleetHealthSamplerOptions['alerts'];
  readonly #store: FleetHealthSamplerOptions['store'];
  readonly #clock: Clock;
  readonly #log: Logger;
  #timer: TimerHandle | undefined;
  #running: Promise<FleetHealthSample> | undefined;
  #lastRetention: number | undefined;

  constructor(options: FleetHealthSamplerOptions) {
    this.settings = { ...FLEET_HEALTH_DEFAULTS, ...options.settings };
    this.#registry = options.registry;
    this.#alerts = options.alerts;
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? pino({ enabled: false });
  }

  /** True while this hub samples. */
  get leading(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling: one sample now (a new leader leaves no gap), then one per interval. No-op while sampling. */
  lead(): void {
    if (this.#timer) return;
    this.#timer = this.#clock.setInterval(() => this.#tick(), this.settings.intervalMs);
    this.#tick();
  }

  /** Stops sampling: another hub of the fleet leads now. */
  follow(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Takes and stores one sample now (or joins the one being taken). */
  sample(): Promise<FleetHealthSample> {
    this.#running ??= this.#take().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Resolves when no sample is being taken. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  /** Stops sampling and waits for a sample being stored. */
  async close(): Promise<void> {
    this.follow();
    await this.#running?.catch(() => undefined);
  }

  #tick(): void {
    // A tick that finds a sample still being stored (a slow database) is skipped, not queued.
    if (this.#running) return;
    this.sample().catch((err: unknown) => this.#log.warn({ err }, 'cannot record fleet health'));
  }

  async #take(): Promise<FleetHealthSample> {
    const ts = this.#clock.now();
    const devices = this.#registry.list();
    const known = new Set<string>();
    let online = 0;
    for (const device of devices) {
      known.add(device.id);
      if (device.status.online) online++;
    }
    // Devices, not alerts: a device with two open alerts is one device alerting. An alert of a
    // device since removed does not count, as the console's own count does not.
    const alerting = new Set<string>();
    for (const alert of await this.#alerts.openAlerts()) if (known.has(alert.deviceId)) alerting.add(alert.deviceId);
    const sample = { ts, online, offline: devices.length - online, alerting: alerting.size };
    await this.#store.record(sample);
    if (this.#lastRetention === undefined || ts - this.#lastRetention >= RETENTION_EVERY_MS) {
      this.#lastRetention = ts;
      await this.#store.retain(ts - this.settings.retentionMs);
    }
    return sample;
  }
}
