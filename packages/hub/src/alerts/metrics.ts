import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../http/instruments.js';

/** The alerts module's Prometheus metrics (docs/alerts.md, metrics), on the hub's one registry. */
export interface AlertMetrics {
  /** Alert transitions, by the status entered and the rule's severity. */
  readonly transitions: Counter<'status' | 'severity'>;
  /** Alerts firing or acknowledged now. */
  readonly open: Gauge<'severity'>;
  /** (rule, device) pairs the evaluator holds state for: bounded by what is firing, pending or measured. */
  readonly states: Gauge;
  /** Webhook attempts by outcome: `delivered`, `http_error`, `network_error`, `timeout`. */
  readonly attempts: Counter<'outcome'>;
  /** Deliveries that ended, by status: `delivered`, `failed` (attempts used up), `dropped` (queue full). */
  readonly deliveries: Counter<'status'>;
  /** Deliveries waiting for an attempt or a retry. */
  readonly queue: Gauge;
}

export function alertMetrics(registry: Registry): AlertMetrics {
  return {
    transitions: counter(registry, 'flotilla_alert_transitions_total', 'Alert transitions by status entered', [
      'status',
      'severity',
    ]),
    open: gauge(registry, 'flotilla_alerts_open', 'Alerts firing or acknowledged', ['severity']),
    states: gauge(registry, 'flotilla_alert_evaluator_states', 'Rule × device pairs the alert evaluator tracks'),
    attempts: counter(registry, 'flotilla_alert_webhook_attempts_total', 'Webhook delivery attempts by outcome', [
      'outcome',
    ]),
    deliveries: counter(
      registry,
      'flotilla_alert_webhook_deliveries_total',
      'Webhook deliveries that ended, by status',
      ['status'],
    ),
    queue: gauge(registry, 'flotilla_alert_webhook_queue', 'Webhook deliveries waiting for an attempt or a retry'),
  };
}
