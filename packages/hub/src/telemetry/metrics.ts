import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../http/instruments.js';

/** The ingest path's Prometheus metrics, on the hub's one registry (get-or-create). */
export interface TelemetryMetrics {
  /** Points + samples waiting in the queue. */
  readonly queued: Gauge;
  /** 1 while the ingest asks transports to stop reading (`pressure` is `full`). */
  readonly pressure: Gauge;
  /** Points + samples per written batch. */
  readonly batchSize: Histogram;
  /** Seconds per batch transaction. */
  readonly writeSeconds: Histogram;
  /** Seconds from `submit` to the durable write (queue wait + write): ingest-to-queryable. */
  readonly ingestSeconds: Histogram;

  readonly pointsWritten: Counter;
  readonly samplesWritten: Counter;
  /** Messages acknowledged without writing: their (device, seq) was stored before. */
  readonly duplicates: Counter;
  readonly refused: Counter<'reason'>;
  readonly writeFailures: Counter;
  /** Seconds per maintenance pass (rollups and retention). */
  readonly maintenanceSeconds: Histogram<'task'>;
}

export function telemetryMetrics(registry: Registry): TelemetryMetrics {
  return {
    queued: gauge(registry, 'flotilla_telemetry_queue_points', 'Telemetry points and samples waiting to be written'),
    pressure: gauge(
      registry,
      'flotilla_telemetry_pressure',
      '1 while the telemetry queue is full and transports should pause',
    ),
    batchSize: histogram(
      registry,
      'flotilla_telemetry_batch_points',
      'Points and samples per telemetry write transaction',
      [],
      [1, 10, 100, 1_000, 5_000, 10_000, 20_000, 50_000],
    ),
    writeSeconds: histogram(
      registry,
      'flotilla_telemetry_write_seconds',
      'Duration of telemetry write transactions',
      [],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    ingestSeconds: histogram(
      registry,
      'flotilla_telemetry_ingest_seconds',
      'Time from a telemetry call entering the ingest to its durable write (queue wait and write)',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    pointsWritten: counter(registry, 'flotilla_telemetry_points_written_total', 'Telemetry points durably written'),
    samplesWritten: counter(registry, 'flotilla_telemetry_samples_written_total', 'Telemetry samples durably written'),
    duplicates: counter(
      registry,
      'flotilla_telemetry_duplicates_total',
      'Telemetry messages acknowledged without writing: their (device, seq) was already stored',
    ),
    refused: counter(registry, 'flotilla_telemetry_refused_total', 'Telemetry values or messages refused, by reason', [
      'reason',
    ]),
    writeFailures: counter(
      registry,
      'flotilla_telemetry_write_failures_total',
      'Telemetry batches the store failed to write',
    ),
    maintenanceSeconds: histogram(
      registry,
      'flotilla_telemetry_maintenance_seconds',
      'Duration of telemetry rollup and retention passes',
      ['task'],
      [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    ),
  };
}
