import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../http/instruments.js';

/** The device log path's Prometheus metrics, on the hub's one registry (get-or-create). */
export interface LogMetrics {
  /** Lines waiting to be written. */
  readonly queued: Gauge;
  readonly written: Counter<'level'>;
  readonly refused: Counter<'reason'>;
  /** Lines per write transaction. */
  readonly batchSize: Histogram;
  readonly writeSeconds: Histogram;
  readonly writeFailures: Counter;
  /** Lines deleted by retention. */
  readonly expired: Counter;
}

export function logMetrics(registry: Registry): LogMetrics {
  return {
    queued: gauge(registry, 'flotilla_logs_queue_lines', 'Device log lines waiting to be written'),
    written: counter(registry, 'flotilla_logs_written_total', 'Device log lines durably written, by level', ['level']),
    refused: counter(registry, 'flotilla_logs_refused_total', 'Device log lines refused, by reason', ['reason']),
    batchSize: histogram(
      registry,
      'flotilla_logs_batch_lines',
      'Device log lines per write transaction',
      [],
      [1, 10, 50, 100, 500, 1_000, 5_000],
    ),
    writeSeconds: histogram(
      registry,
      'flotilla_logs_write_seconds',
      'Duration of device log write transactions',
      [],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    writeFailures: counter(
      registry,
      'flotilla_logs_write_failures_total',
      'Device log batches the store failed to write',
    ),
    expired: counter(registry, 'flotilla_logs_expired_total', 'Device log lines deleted by retention'),
  };
}
