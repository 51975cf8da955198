import type { AlertRow, AlertRuleRow, DeliveryRow } from '../storage/alerts.js';
import type { RuleDefinition } from './definition.js';

/**
 * How alerts, rules and deliveries look outside the hub: in the API, in event data, in webhook
 * payloads. One shape each, so a console reads the same alert from all three.
 */

export interface AlertView {
  id: string;
  rule: string;
  ruleName: string;
  device: string;
  severity: string;
  status: AlertRow['status'];
  summary: string;
  details: Record<string, unknown>;
  startedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolution: string | null;
}

export function alertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    rule: row.ruleId,
    ruleName: row.ruleName,
    device: row.deviceId,
    severity: row.severity,
    status: row.status,
    summary: row.summary,
    details: row.details,
    startedAt: row.startedAt,
    acknowledgedAt: row.acknowledgedAt,
    acknowledgedBy: row.acknowledgedBy,
    resolvedAt: row.resolvedAt,
    resolvedBy: row.resolvedBy,
    resolution: row.resolution,
  };
}

export interface WebhookView {
  url: string;
  /** True when deliveries are signed; the secret itself is never shown again. */
  signed: boolean;
}

export interface RuleView extends Omit<RuleDefinition, 'webhooks'> {
  id: string;
  webhooks: WebhookView[];
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export function ruleView(row: AlertRuleRow, definition: RuleDefinition): RuleView {
  const { webhooks, ...rest } = definition;
  return {
    id: row.id,
    ...rest,
    webhooks: webhooks.map((hook) => ({ url: hook.url, signed: hook.secret !== undefined })),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export interface DeliveryView {
  id: string;
  url: string;
  event: string;
  status: DeliveryRow['status'];
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

export function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    url: row.url,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    lastStatusCode: row.lastStatusCode,
    createdAt: row.createdAt,
    lastAttemptAt: row.lastAttemptAt,
    nextAttemptAt: row.nextAttemptAt,
    deliveredAt: row.deliveredAt,
  };
}
