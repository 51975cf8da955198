import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from '@flotilla/protocol';
import { registerEventLoopDelay } from './event-loop-delay.js';

/**
 * The hub's one Prometheus registry and the metrics the device side owns. Other parts (the HTTP
 * layer's request histogram, later the telemetry pipeline) register their own metrics on
 * `metrics.registry`, so `/metrics` serves a single text.
 */
export { Registry as MetricsRegistry } from 'prom-client';

export type MessageDirection = 'in' | 'out';

export interface DeviceCounts {
  online: number;
  offline: number;
}

export interface HubMetrics {
  readonly registry: Registry;
  /** Open device connections, by transport (`ws`, later `mqtt`, `nats`). */
  readonly wsConnections: Gauge<'transport'>;
  /** Protocol messages by type and direction. Hot paths count through `countMessage`. */
  readonly messages: Counter<'type' | 'direction'>;
  /** Refused inbound frames, by error code. */
  readonly frameErrors: Counter<'code'>;
  readonly eventsAppended: Counter<'type'>;
  readonly eventLogSize: Gauge;
  readonly devices: Gauge<'state'>;
  /** Device connections the hub has stopped reading (telemetry backpressure), by transport. */
  readonly pausedConnections: Gauge<'transport'>;
  /** Time device connections were paused, summed over the pauses (each pause counts once, not per connection). */
  readonly pausedSeconds: Counter;
  readonly pauses: Counter;
  /**
   * Counts one message without touching prom-client: a labelled `inc` hashes its label object on
   * every call, which at tens of thousands of frames per second is measurable. The tallies are
   * folded into `messages` when Prometheus scrapes.
   */
  countMessage(type: string, direction: MessageDirection): void;
  /** Where `flotilla_event_log_size` reads the log's length (cached, see EVENT_LOG_SIZE_TTL_MS). */
  setEventLogSource(count: () => Promise<number>): void;
  /** Where `flotilla_devices` reads its values at scrape time. */
  setDeviceSource(counts: () => DeviceCounts): void;
  /** Stops what samples the process (the event-loop delay monitor's timer). Idempotent. */
  close(): void;
}

export interface MetricsOptions {
  /** Clock for the event-log size cache (default: system clock). */
  clock?: Clock;
  /**
   * Also collect the process metrics: prom-client's defaults and the event-loop delay
   * (`flotilla_event_loop_delay_seconds`, event-loop-delay.ts) (default true).
   */
  defaultMetrics?: boolean;
}

/**
 * Counting the event log is a full scan on PostgreSQL; scrapes every few seconds from several
 * Prometheus servers must not turn into a steady stream of COUNT(*). At most one count per 10 s.
 */
export const EVENT_LOG_SIZE_TTL_MS = 10_000;

export function createMetrics(options: MetricsOptions = {}): HubMetrics {
  const clock = options.clock ?? systemClock;
  const registry = new Registry();
  let eventLoopDelay: { close(): void } | undefined;
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    eventLoopDelay = registerEventLoopDelay(registry);
  }

  const tallies: Record<MessageDirection, Map<string, number>> = { in: new Map(), out: new Map() };
  let logSource: (() => Promise<number>) | undefined;
  let deviceSource: (() => DeviceCounts) | undefined;
  let logSize: { value: number; at: number } | undefined;
  let logCount: Promise<number> | undefined;

  const messages = new Counter({
    name: 'flotilla_messages_total',
    help: 'Protocol messages by type and direction (in = from devices, out = to devices)',
    labelNames: ['type', 'direction'] as const,
    registers: [registry],
    collect() {
      for (const direction of ['in', 'out'] as const) {
        const tally = tallies[direction];
        for (const [type, n] of tally) if (n > 0) this.inc({ type, direction }, n);
        tally.clear();
      }
    },
  });

  const eventLogSize = new Gauge({
    name: 'flotilla_event_log_size',
    help: 'Events in the event log (refreshed at most every 10 s)',
    registers: [registry],
    async collect() {
      if (!logSource) return;
      const now = clock.now();
      if (!logSize || now - logSize.at >= EVENT_LOG_SIZE_TTL_MS) {
        // Concurrent scrapes share one count.
        logCount ??= logSource().finally(() => (logCount = undefined));
        try {
          logSize = { value: await logCount, at: now };
        } catch {
          // Storage trouble shows in /ready; the gauge keeps its last known value.
        }
      }
      if (logSize) this.set(logSize.value);
    },
  });

  const devices = new Gauge({
    name: 'flotilla_devices',
    help: 'Registered devices by connection state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (!deviceSource) return;
      const counts = deviceSource();
      this.set({ state: 'online' }, counts.online);
      this.set({ state: 'offline' }, counts.offline);
    },
  });

  return {
    registry,
    wsConnections: new Gauge({
      name: 'flotilla_ws_connections',
      help: 'Open device connections by transport',
      labelNames: ['transport'] as const,
      registers: [registry],
    }),
    messages,
    frameErrors: new Counter({
      name: 'flotilla_frame_errors_total',
      help: 'Inbound frames refused, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: 'flotilla_events_appended_total',
      help: 'Events appended to the event log, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    eventLogSize,
    devices,
    pausedConnections: new Gauge({
      name: 'flotilla_device_connections_paused',
      help: 'Device connections not being read while telemetry storage catches up, by transport',
      labelNames: ['transport'] as const,
      registers: [registry],
    }),
    pausedSeconds: new Counter({
      name: 'flotilla_device_reads_paused_seconds_total',
      help: 'Time the hub stopped reading device connections because telemetry storage fell behind',
      registers: [registry],
    }),
    pauses: new Counter({
      name: 'flotilla_device_read_pauses_total',
      help: 'Times the hub stopped reading device connections because telemetry storage fell behind',
      registers: [registry],
    }),
    countMessage(type, direction) {
      const tally = tallies[direction];
      tally.set(type, (tally.get(type) ?? 0) + 1);
    },
    setEventLogSource(count) {
      logSource = count;
      logSize = undefined;
    },
    setDeviceSource(counts) {
      deviceSource = counts;
    },
    close() {
      eventLoopDelay?.close();
    },
  };
}
