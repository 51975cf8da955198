import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, EventMetadata, StoredEvent } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import { ApiError, ApiErrors } from '../http/errors.js';
import { OPEN_ALERT_STATUSES, type AlertRow, type AlertStatus, type DeliveryRow } from '../storage/alerts.js';
import type { Storage } from '../storage/types.js';
import type { WebhookInput } from './definition.js';
import type { AlertMetrics } from './metrics.js';
import { alertView } from './views.js';
import type { WebhookDispatcher } from './webhooks.js';

/**
 * The alert lifecycle: firing → acknowledged → resolved (or firing → resolved). Each transition
 * is a row change (storage/alerts.ts), an event in the event log on the device's aggregate with
 * its actor (`system` for what the evaluator decides, the user for ack and manual resolve), a
 * publication on the bus (`flotilla.<device>.event.<AlertFired|AlertAcknowledged|AlertResolved>`,
 * the stored event, which `/ws/client` subscribers receive) and a webhook delivery per webhook of
 * the rule.
 *
 * The evaluator decides synchronously (`fire`, `resolveBySystem` return at once, with the alert
 * as it now stands in memory); the writes run one after another in the background, in the order
 * decided, so "fired" is always stored before "resolved". Open alerts are held in memory while
 * the hub evaluates (from `load` on): they are what the API's ack and resolve act on, and what a
 * restart reloads. A hub that does not evaluate (a follower of a fleet on NATS, `forget`) holds
 * none; its ack and resolve act on the stored alert, guarded by its stored status.
 */

export const AlertEventTypes = {
  Fired: 'AlertFired',
  Acknowledged: 'AlertAcknowledged',
  Resolved: 'AlertResolved',
  RuleCreated: 'AlertRuleCreated',
  RuleUpdated: 'AlertRuleUpdated',
  RuleDeleted: 'AlertRuleDeleted',
} as const;

export const TRANSITION_EVENTS: readonly string[] = [
  AlertEventTypes.Fired,
  AlertEventTypes.Acknowledged,
  AlertEventTypes.Resolved,
];

export const SYSTEM_ACTOR = 'system';

export interface AlertLifecycleOptions {
  storage: Pick<Storage, 'alerts' | 'appendEvents' | 'readEvents'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: AlertMetrics;
  dispatcher: WebhookDispatcher;
  /** The webhooks of a rule as it stands (ack and manual resolve notify them). */
  webhooksOf(ruleId: string): readonly WebhookInput[];
}

export interface FireRequest {
  rule: { id: string; name: string; severity: string };
  deviceId: string;
  summary: string;
  details: Record<string, unknown>;
  webhooks: readonly WebhookInput[];
}

export class AlertLifecycle {
  readonly #o: AlertLifecycleOptions;
  readonly #open = new Map<string, AlertRow>();
  /** Whether `#open` holds every open alert (this hub evaluates), or none (it reads storage). */
  #holding = false;
  #writes: Promise<void> = Promise.resolve();
  #released: ((alert: AlertRow) => void) | undefined;

  constructor(options: AlertLifecycleOptions) {
    this.#o = options;
    options.metrics.open.reset();
  }

  /** Reads the alerts a stopped hub left open; the evaluator rebuilds its state from them. */
  async load(): Promise<AlertRow[]> {
    const rows = await this.#o.storage.alerts.openAlerts();
    // What memory held from an earlier turn as leader may have been acted on since: storage is the truth.
    this.forget();
    for (const row of rows) this.#open.set(row.id, row);
    for (const row of rows) this.#o.metrics.open.inc({ severity: row.severity });
    this.#holding = true;
    return rows;
  }

  /** Stops holding open alerts in memory: another hub evaluates, and acts on them. */
  forget(): void {
    this.#open.clear();
    this.#o.metrics.open.reset();
    this.#holding = false;
  }

  /** Called when a user resolves an alert the evaluator holds (it must stop tracking it). */
  onReleased(handler: (alert: AlertRow) => void): void {
    this.#released = handler;
  }

  get openCount(): number {
    return this.#open.size;
  }

  openAlerts(): IterableIterator<AlertRow> {
    return this.#open.values();
  }

  /** A new firing alert; stored, announced and delivered in the background. */
  fire(request: FireRequest): AlertRow {
    const now = this.#o.clock.now();
    const row: AlertRow = {
      id: randomUUID(),
      ruleId: request.rule.id,
      ruleName: request.rule.name,
      deviceId: request.deviceId,
      severity: request.rule.severity,
      status: 'firing',
      summary: request.summary,
      details: request.details,
      startedAt: now,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
    };
    this.#open.set(row.id, row);
    this.#count(row);
    const snapshot = { ...row };
    this.#write(async () => {
      await this.#o.storage.alerts.insertAlert(snapshot);
      await this.#announce(snapshot, AlertEventTypes.Fired, systemMeta(row.id), request.webhooks);
    });
    return row;
  }

  /** Resolves an open alert on the hub's own decision (`cleared`, `rule_deleted`…); no-op when not open. */
  resolveBySystem(alertId: string, resolution: string, webhooks?: readonly WebhookInput[]): void {
    const row = this.#open.get(alertId);
    if (!row) return;
    this.#resolve(row, systemMeta(alertId), resolution, webhooks ?? this.#o.webhooksOf(row.ruleId));
  }

  /** firing → acknowledged (by a user); acknowledging an acknowledged alert changes nothing. */
  async acknowledge(id: string, metadata: EventMetadata): Promise<AlertRow> {
    if (!this.#holding) return this.#acknowledgeStored(id, metadata);
    const row = this.#open.get(id);
    if (!row) return this.#notOpen(id);
    if (row.status === 'acknowledged') return { ...row };
    row.status = 'acknowledged';
    row.acknowledgedAt = this.#o.clock.now();
    row.acknowledgedBy = metadata.actor;
    this.#count(row);
    const snapshot = { ...row };
    const webhooks = this.#o.webhooksOf(row.ruleId);
    await this.#write(async () => {
      await this.#o.storage.alerts.transition(snapshot, ['firing']);
      await this.#announce(snapshot, AlertEventTypes.Acknowledged, { ...metadata, correlationId: id }, webhooks);
    });
    return snapshot;
  }

  /** firing | acknowledged → resolved (by a user). */
  async resolve(id: string, metadata: EventMetadata): Promise<AlertRow> {
    if (!this.#holding) return this.#resolveStored(id, metadata);
    const row = this.#open.get(id);
    if (!row) return this.#notOpen(id);
    const snapshot = this.#resolve(row, { ...metadata, correlationId: id }, 'manual', this.#o.webhooksOf(row.ruleId));
    this.#released?.(snapshot);
    await this.#writes;
    return snapshot;
  }

  /** An alert as it stands (memory first: writes may still be under way), or 404. */
  async get(id: string): Promise<AlertRow> {
    const open = this.#open.get(id);
    if (open) return { ...open };
    await this.flush();
    const row = await this.#o.storage.alerts.getAlert(id);
    if (!row) throw new ApiError(ApiErrors.ALERT_NOT_FOUND, `no alert ${id}`);
    return row;
  }

  /** The alert's transitions, oldest first, from the event log. */
  async history(row: AlertRow): Promise<StoredEvent[]> {
    await this.flush();
    const events = await this.#o.storage.readEvents({
      aggregateId: row.deviceId,
      types: [...TRANSITION_EVENTS],
      since: row.startedAt,
      ...(row.resolvedAt !== null && { until: row.resolvedAt + 1 }),
      limit: 1000,
    });
    return events.filter((event) => (event.data['alert'] as { id?: unknown } | undefined)?.id === row.id);
  }

  /** Resolves once every transition decided so far is written. */
  async flush(): Promise<void> {
    let last: Promise<void> | undefined;
    while (last !== this.#writes) {
      last = this.#writes;
      await last;
    }
  }

  #resolve(row: AlertRow, metadata: EventMetadata, resolution: string, webhooks: readonly WebhookInput[]): AlertRow {
    const from: AlertStatus[] = [...OPEN_ALERT_STATUSES];
    this.#open.delete(row.id);
    this.#o.metrics.open.dec({ severity: row.severity });
    row.status = 'resolved';
    row.resolvedAt = this.#o.clock.now();
    row.resolvedBy = metadata.actor;
    row.resolution = resolution;
    this.#o.metrics.transitions.inc({ status: 'resolved', severity: row.severity });
    const snapshot = { ...row };
    this.#write(async () => {
      await this.#o.storage.alerts.transition(snapshot, from);
      await this.#announce(snapshot, AlertEventTypes.Resolved, metadata, webhooks);
    });
    return snapshot;
  }

  /** Not evaluating: acknowledges the stored alert, unless someone moved it first. */
  async #acknowledgeStored(id: string, metadata: EventMetadata): Promise<AlertRow> {
    const row = await this.#stored(id);
    if (row.status === 'acknowledged') return row;
    row.status = 'acknowledged';
    row.acknowledgedAt = this.#o.clock.now();
    row.acknowledgedBy = metadata.actor;
    if (!(await this.#writeStored(row, ['firing'], AlertEventTypes.Acknowledged, { ...metadata, correlationId: id }))) {
      // Someone acknowledged or resolved it meanwhile: acknowledged stays as it is, resolved is said.
      return this.#stored(id);
    }
    return row;
  }

  /** Not evaluating: resolves the stored alert, unless someone resolved it first. */
  async #resolveStored(id: string, metadata: EventMetadata): Promise<AlertRow> {
    const row = await this.#stored(id);
    row.status = 'resolved';
    row.resolvedAt = this.#o.clock.now();
    row.resolvedBy = metadata.actor;
    row.resolution = 'manual';
    if (
      !(await this.#writeStored(row, OPEN_ALERT_STATUSES, AlertEventTypes.Resolved, { ...metadata, correlationId: id }))
    )
      return this.#notOpen(id);
    return row;
  }

  async #stored(id: string): Promise<AlertRow> {
    await this.flush();
    const row = await this.#o.storage.alerts.getAlert(id);
    if (!row) throw new ApiError(ApiErrors.ALERT_NOT_FOUND, `no alert ${id}`);
    if (row.status === 'resolved') throw resolvedError(row);
    return row;
  }

  /** The transition if the stored status is still one of `from`, then its event and webhooks; false if it was not. */
  async #writeStored(
    row: AlertRow,
    from: readonly AlertStatus[],
    type: string,
    metadata: EventMetadata,
  ): Promise<boolean> {
    if (!(await this.#o.storage.alerts.transition(row, from))) return false;
    this.#o.metrics.transitions.inc({ status: row.status, severity: row.severity });
    const webhooks = this.#o.webhooksOf(row.ruleId);
    await this.#write(() => this.#announce({ ...row }, type, metadata, webhooks));
    return true;
  }

  async #notOpen(id: string): Promise<never> {
    await this.flush();
    const row = await this.#o.storage.alerts.getAlert(id);
    if (!row) throw new ApiError(ApiErrors.ALERT_NOT_FOUND, `no alert ${id}`);
    throw resolvedError(row);
  }

  #count(row: AlertRow): void {
    this.#o.metrics.transitions.inc({ status: row.status, severity: row.severity });
    if (row.status === 'firing') this.#o.metrics.open.inc({ severity: row.severity });
  }

  /** Event (with the transition's own time), bus, then one delivery per webhook. */
  async #announce(row: AlertRow, type: string, metadata: EventMetadata, webhooks: readonly WebhookInput[]) {
    const { storage, bus, dispatcher } = this.#o;
    const ts = row.resolvedAt ?? row.acknowledgedAt ?? row.startedAt;
    const view = alertView(row);
    const data = { alert: view };
    const [stored] = await storage.appendEvents([
      { id: randomUUID(), aggregateId: row.deviceId, type, ts, data, metadata },
    ]);
    if (stored) bus.publish(`flotilla.${row.deviceId}.event.${type}`, stored);
    for (const hook of webhooks) {
      const delivery: DeliveryRow = {
        id: randomUUID(),
        alertId: row.id,
        ruleId: row.ruleId,
        url: hook.url,
        event: type,
        payload: {},
        status: 'pending',
        attempts: 0,
        lastError: null,
        lastStatusCode: null,
        createdAt: this.#o.clock.now(),
        lastAttemptAt: null,
        nextAttemptAt: null,
        deliveredAt: null,
      };
      delivery.payload = { event: type, delivery: delivery.id, alert: view };
      await storage.alerts.insertDelivery(delivery);
      dispatcher.enqueue({ row: delivery, secret: hook.secret });
    }
  }

  /** Runs a write after the earlier ones; a failure is logged and later writes still run. */
  #write(write: () => Promise<void>): Promise<void> {
    this.#writes = this.#writes.then(write).catch((err: unknown) => {
      this.#o.logger.error({ err }, 'cannot record an alert transition');
    });
    return this.#writes;
  }
}

function resolvedError(row: AlertRow): ApiError {
  return new ApiError(ApiErrors.ALERT_RESOLVED, `alert ${row.id} was resolved (${row.resolution ?? 'resolved'})`);
}

function systemMeta(alertId: string): EventMetadata {
  return { actor: SYSTEM_ACTOR, correlationId: alertId, causationId: null };
}
