import type { Selectable } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { AlertDeliveriesTable, AlertRulesTable, AlertsTable } from './schema.js';

/**
 * Typed queries over alert rules, alerts and webhook deliveries (migration 0009). The alerts
 * module decides what the statuses mean; this stores and finds them. Times are epoch ms.
 */

export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const OPEN_ALERT_STATUSES: readonly AlertStatus[] = ['firing', 'acknowledged'];
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface AlertRuleRow {
  id: string;
  name: string;
  /** The rule's definition as validated by the alerts module (JSON). */
  definition: Record<string, unknown>;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface AlertRow {
  id: string;
  ruleId: string;
  ruleName: string;
  deviceId: string;
  severity: string;
  status: AlertStatus;
  summary: string;
  details: Record<string, unknown>;
  startedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** Why it resolved: `cleared`, `manual`, `rule_changed`, `rule_deleted`, `device_removed`… */
  resolution: string | null;
}

export interface DeliveryRow {
  id: string;
  alertId: string;
  ruleId: string;
  url: string;
  /** The transition it announces: AlertFired, AlertAcknowledged, AlertResolved. */
  event: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

export interface AlertQuery {
  statuses?: readonly AlertStatus[];
  deviceId?: string;
  ruleId?: string;
  severities?: readonly string[];
  /** Alerts open at some time in [from, to): started before `to`, not resolved before `from`. */
  from?: number;
  to?: number;
  /** Newest first: only alerts strictly before this (startedAt, id). */
  before?: { startedAt: number; id: string };
  limit: number;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toRule(r: Selectable<AlertRulesTable>): AlertRuleRow {
  return {
    id: r.id,
    name: r.name,
    definition: JSON.parse(r.definition) as Record<string, unknown>,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toAlert(r: Selectable<AlertsTable>): AlertRow {
  return {
    id: r.id,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    deviceId: r.device_id,
    severity: r.severity,
    status: r.status as AlertStatus,
    summary: r.summary,
    details: JSON.parse(r.details) as Record<string, unknown>,
    startedAt: Number(r.started_at),
    acknowledgedAt: num(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: num(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
  };
}

function toDelivery(r: Selectable<AlertDeliveriesTable>): DeliveryRow {
  return {
    id: r.id,
    alertId: r.alert_id,
    ruleId: r.rule_id,
    url: r.url,
    event: r.event,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    lastStatusCode: num(r.last_status_code),
    createdAt: Number(r.created_at),
    lastAttemptAt: num(r.last_attempt_at),
    nextAttemptAt: num(r.next_attempt_at),
    deliveredAt: num(r.delivered_at),
  };
}

export class AlertStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  // ---- rules ------------------------------------------------------------------------------------

  async insertRule(row: AlertRuleRow): Promise<void> {
    await guard('creating an alert rule', () =>
      this.#engine.db
        .insertInto('alert_rules')
        .values({
          id: row.id,
          name: row.name,
          definition: JSON.stringify(row.definition),
          created_by: row.createdBy,
          created_at: row.createdAt,
          updated_at: row.updatedAt,
        })
        .execute(),
    );
  }

  async updateRule(row: AlertRuleRow): Promise<boolean> {
    const result = await guard('changing an alert rule', () =>
      this.#engine.db
        .updateTable('alert_rules')
        .set({ name: row.name, definition: JSON.stringify(row.definition), updated_at: row.updatedAt })
        .where('id', '=', row.id)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async deleteRule(id: string): Promise<boolean> {
    const result = await guard('deleting an alert rule', () =>
      this.#engine.db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst(),
    );
    return Number(result.numDeletedRows) === 1;
  }

  async listRules(): Promise<AlertRuleRow[]> {
    const rows = await guard('listing alert rules', () =>
      this.#engine.db.selectFrom('alert_rules').selectAll().orderBy('name').execute(),
    );
    return rows.map(toRule);
  }

  /** True when the unique name constraint refused a write. */
  isNameTaken(error: unknown): boolean {
    const cause = (error as { cause?: unknown }).cause ?? error;
    return this.#engine.isUniqueViolation(cause);
  }

  // ---- alerts -----------------------------------------------------------------------------------

  async insertAlert(row: AlertRow): Promise<void> {
    await guard('recording an alert', () =>
      this.#engine.db
        .insertInto('alerts')
        .values({
          id: row.id,
          rule_id: row.ruleId,
          rule_name: row.ruleName,
          device_id: row.deviceId,
          severity: row.severity,
          status: row.status,
          summary: row.summary,
          details: JSON.stringify(row.details),
          started_at: row.startedAt,
          acknowledged_at: row.acknowledgedAt,
          acknowledged_by: row.acknowledgedBy,
          resolved_at: row.resolvedAt,
          resolved_by: row.resolvedBy,
          resolution: row.resolution,
        })
        .execute(),
    );
  }

  /** Writes a transition; false when the alert was not in one of `from` (someone else moved it). */
  async transition(row: AlertRow, from: readonly AlertStatus[]): Promise<boolean> {
    const result = await guard('recording an alert transition', () =>
      this.#engine.db
        .updateTable('alerts')
        .set({
          status: row.status,
          acknowledged_at: row.acknowledgedAt,
          acknowledged_by: row.acknowledgedBy,
          resolved_at: row.resolvedAt,
          resolved_by: row.resolvedBy,
          resolution: row.resolution,
        })
        .where('id', '=', row.id)
        .where('status', 'in', from)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async getAlert(id: string): Promise<AlertRow | undefined> {
    const row = await guard('reading an alert', () =>
      this.#engine.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return row && toAlert(row);
  }

  /** Alerts matching the query, newest first (by start, then id). */
  async listAlerts(query: AlertQuery): Promise<AlertRow[]> {
    const rows = await guard('listing alerts', () => {
      let q = this.#engine.db.selectFrom('alerts').selectAll();
      if (query.statuses && query.statuses.length > 0) q = q.where('status', 'in', query.statuses);
      if (query.deviceId !== undefined) q = q.where('device_id', '=', query.deviceId);
      if (query.ruleId !== undefined) q = q.where('rule_id', '=', query.ruleId);
      if (query.severities && query.severities.length > 0) q = q.where('severity', 'in', query.severities);
      if (query.to !== undefined) q = q.where('started_at', '<', query.to);
      const from = query.from;
      if (from !== undefined)
        q = q.where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]));
      const before = query.before;
      if (before) {
        q = q.where((eb) =>
          eb.or([
            eb('started_at', '<', before.startedAt),
            eb.and([eb('started_at', '=', before.startedAt), eb('id', '<', before.id)]),
          ]),
        );
      }
      return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    });
    return rows.map(toAlert);
  }

  /** Every alert still firing or acknowledged: what a starting hub rebuilds its evaluator from. */
  async openAlerts(): Promise<AlertRow[]> {
    const rows = await guard('reading open alerts', () =>
      this.#engine.db.selectFrom('alerts').selectAll().where('status', 'in', OPEN_ALERT_STATUSES).execute(),
    );
    return rows.map(toAlert);
  }

  // ---- webhook deliveries -----------------------------------------------------------------------

  async insertDelivery(row: DeliveryRow): Promise<void> {
    await guard('recording a webhook delivery', () =>
      this.#engine.db
        .insertInto('alert_deliveries')
        .values({
          id: row.id,
          alert_id: row.alertId,
          rule_id: row.ruleId,
          url: row.url,
          event: row.event,
          payload: JSON.stringify(row.payload),
          status: row.status,
          attempts: row.attempts,
          last_error: row.lastError,
          last_status_code: row.lastStatusCode,
          created_at: row.createdAt,
          last_attempt_at: row.lastAttemptAt,
          next_attempt_at: row.nextAttemptAt,
          delivered_at: row.deliveredAt,
        })
        .execute(),
    );
  }

  /** Records an attempt's outcome (status, attempts, error, next attempt). */
  async updateDelivery(row: DeliveryRow): Promise<void> {
    await guard('recording a webhook attempt', () =>
      this.#engine.db
        .updateTable('alert_deliveries')
        .set({
          status: row.status,
          attempts: row.attempts,
          last_error: row.lastError,
          last_status_code: row.lastStatusCode,
          last_attempt_at: row.lastAttemptAt,
          next_attempt_at: row.nextAttemptAt,
          delivered_at: row.deliveredAt,
        })
        .where('id', '=', row.id)
        .execute(),
    );
  }

  async deliveriesOf(alertId: string): Promise<DeliveryRow[]> {
    const rows = await guard('listing webhook deliveries', () =>
      this.#engine.db
        .selectFrom('alert_deliveries')
        .selectAll()
        .where('alert_id', '=', alertId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    );
    return rows.map(toDelivery);
  }

  /** Deliveries a stopped hub left pending, oldest first. */
  async pendingDeliveries(limit: number): Promise<DeliveryRow[]> {
    const rows = await guard('reading pending webhook deliveries', () =>
      this.#engine.db
        .selectFrom('alert_deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute(),
    );
    return rows.map(toDelivery);
  }
}
