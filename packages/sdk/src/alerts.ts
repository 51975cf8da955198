import type { Call } from './client.js';
import { cursorOf, page, paginate } from './paging.js';
import type { Page, RequestOptions, StoredEvent, TimeBound } from './types.js';
import { timeParam } from './url.js';

/** Alert rules and alerts over the hub's API (`client.alerts`; docs/alerts.md on the hub). */

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertStatus = 'firing' | 'acknowledged' | 'resolved';
export type Comparator = '>' | '>=' | '<' | '<=';
/** `30s`, `5m`, `1h30m`, or milliseconds. */
export type AlertDuration = string | number;

export type AlertCondition =
  | { and: AlertCondition[] }
  | { or: AlertCondition[] }
  | { type: 'threshold'; metric: string; op: Comparator; value: number; for?: AlertDuration; clear?: number }
  | { type: 'battery'; below: number; metric?: string; for?: AlertDuration; clear?: number }
  | { type: 'offline'; for: AlertDuration }
  | { type: 'no_data'; for: AlertDuration; metric?: string }
  | {
      type: 'rate';
      metric: string;
      op: Comparator;
      value: number;
      per?: 'second' | 'minute' | 'hour';
      window: AlertDuration;
      for?: AlertDuration;
      clear?: number;
    };

/** What creates a rule (POST) and, partly, changes one (PATCH). */
export interface AlertRuleInput {
  name: string;
  description?: string;
  /** Label selector (`type=lekiwi,site=lab`); absent: every device. */
  selector?: string;
  severity: AlertSeverity;
  enabled?: boolean;
  condition: AlertCondition;
  webhooks?: Array<{ url: string; secret?: string }>;
}

export type AlertRulePatch = Partial<Omit<AlertRuleInput, 'description' | 'selector'>> & {
  /** null removes it. */
  description?: string | null;
  selector?: string | null;
};

export interface AlertRule extends Omit<AlertRuleInput, 'webhooks' | 'enabled'> {
  id: string;
  enabled: boolean;
  /** Secrets are never returned: `signed` says a webhook has one. */
  webhooks: Array<{ url: string; signed: boolean }>;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface Alert {
  id: string;
  /** Rule id. */
  rule: string;
  ruleName: string;
  device: string;
  severity: AlertSeverity;
  status: AlertStatus;
  summary: string;
  details: Record<string, unknown>;
  startedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** `cleared`, `manual`, `rule_changed`, `rule_disabled`, `rule_deleted`, `device_removed`, `out_of_scope`. */
  resolution: string | null;
}

export interface WebhookDelivery {
  id: string;
  url: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: number;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

export interface AlertDetail extends Alert {
  /** AlertFired, AlertAcknowledged, AlertResolved events, oldest first. */
  history: StoredEvent[];
  deliveries: WebhookDelivery[];
}

export interface AlertFilter {
  status?: AlertStatus[];
  device?: string;
  severity?: AlertSeverity[];
  rule?: string;
  /** Alerts open at or after. */
  from?: TimeBound;
  /** Alerts started before. */
  to?: TimeBound;
  limit?: number;
  cursor?: string;
}

type Caller = <T>(method: string, path: string, call: Call) => Promise<T>;

const RULES = 'api/v1/alert-rules';
const ALERTS = 'api/v1/alerts';
const one = (base: string, id: string) => `${base}/${encodeURIComponent(id)}`;

function alertQuery(filter: AlertFilter): URLSearchParams {
  const query = new URLSearchParams();
  if (filter.status?.length) query.set('status', filter.status.join(','));
  if (filter.severity?.length) query.set('severity', filter.severity.join(','));
  if (filter.device !== undefined) query.set('device', filter.device);
  if (filter.rule !== undefined) query.set('rule', filter.rule);
  if (filter.from !== undefined) query.set('from', timeParam(filter.from));
  if (filter.to !== undefined) query.set('to', timeParam(filter.to));
  if (filter.limit !== undefined) query.set('limit', String(filter.limit));
  if (filter.cursor !== undefined) query.set('cursor', filter.cursor);
  return query;
}

export class AlertsApi {
  readonly #call: Caller;

  constructor(call: Caller) {
    this.#call = call;
  }

  /** One page of alerts, newest first. */
  async list(filter: AlertFilter = {}, options: RequestOptions = {}): Promise<Page<Alert>> {
    return page(await this.#call<Page<Alert>>('GET', ALERTS, { query: alertQuery(filter), signal: options.signal }));
  }

  /** Every alert matching the filter, page after page. */
  iterate(filter: AlertFilter = {}, options: RequestOptions = {}): AsyncGenerator<Alert, void, undefined> {
    return paginate((cursor) => this.list(cursorOf(filter, cursor), options), filter.cursor);
  }

  /** One alert with its history and webhook deliveries. */
  get(id: string, options: RequestOptions = {}): Promise<AlertDetail> {
    return this.#call('GET', one(ALERTS, id), { signal: options.signal });
  }

  acknowledge(id: string, options: RequestOptions = {}): Promise<Alert> {
    return this.#call('POST', `${one(ALERTS, id)}/ack`, { signal: options.signal });
  }

  resolve(id: string, options: RequestOptions = {}): Promise<Alert> {
    return this.#call('POST', `${one(ALERTS, id)}/resolve`, { signal: options.signal });
  }

  async listRules(options: RequestOptions = {}): Promise<AlertRule[]> {
    return (await this.#call<{ items: AlertRule[] }>('GET', RULES, { signal: options.signal })).items;
  }

  getRule(id: string, options: RequestOptions = {}): Promise<AlertRule> {
    return this.#call('GET', one(RULES, id), { signal: options.signal });
  }

  createRule(rule: AlertRuleInput, options: RequestOptions = {}): Promise<AlertRule> {
    return this.#call('POST', RULES, { body: rule, signal: options.signal });
  }

  updateRule(id: string, patch: AlertRulePatch, options: RequestOptions = {}): Promise<AlertRule> {
    return this.#call('PATCH', one(RULES, id), { body: patch, signal: options.signal });
  }

  async deleteRule(id: string, options: RequestOptions = {}): Promise<void> {
    await this.#call<void>('DELETE', one(RULES, id), { signal: options.signal });
  }
}
