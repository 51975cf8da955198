import type { Logger } from 'pino';
import type { Clock, Device, EventMetadata, StoredEvent } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { HubMetrics } from '../metrics.js';
import type { AlertQuery, AlertStatus } from '../storage/alerts.js';
import type { Storage } from '../storage/types.js';
import { AlertEvaluator, type EvaluatorSettings } from './evaluator.js';
import { AlertLifecycle } from './lifecycle.js';
import { alertMetrics } from './metrics.js';
import { AlertRules } from './rules.js';
import { alertView, deliveryView, type AlertView, type DeliveryView } from './views.js';
import { WebhookDispatcher, type WebhookSettings } from './webhooks.js';

/**
 * The alerts module (docs/alerts.md) as the hub sees it: rules, the evaluator, the lifecycle and
 * webhook deliveries, wired together, plus the reads the API and other modules use. `open`
 * loads the rules and the open alerts before the evaluator listens, so a restarted hub carries
 * on where the stopped one was.
 */

/** What a hub's embedder (or a test) may tune. */
export interface AlertSettings {
  evaluator?: Partial<EvaluatorSettings>;
  webhooks?: Partial<WebhookSettings>;
}

/** What a user does to an alert: acknowledge it, or resolve it by hand. */
export type AlertAction = 'acknowledge' | 'resolve';

/**
 * Several hubs on NATS: hands a user's ack or resolve to the hub that evaluates (the leader), so
 * its evaluator and the stored alert change together. Resolves with the alert as the leader left
 * it, or undefined when no hub leads right now (this hub then writes it, and the next leader
 * reads it from storage); rejects with an ApiError when the leader refused it.
 */
export interface AlertLeader {
  forward(action: AlertAction, id: string, actor: string): Promise<AlertView | undefined>;
}

export interface AlertServiceOptions {
  storage: Storage;
  registry: { get(id: string): Device | undefined; list(): Device[] };
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
  settings?: AlertSettings;
  /** Replaces the global fetch for webhook deliveries. */
  fetch?: typeof fetch;
  /**
   * Several hubs on NATS: only the fleet's leader evaluates (and resumes webhook deliveries),
   * from `lead()` on; `open` only loads the rules.
   */
  leaderOnly?: boolean;
  /** Told after a rule was created, changed or deleted through this hub. */
  onRulesChanged?: () => void;
  /** Several hubs on NATS: where acks and resolves go while another hub evaluates. */
  leader?: AlertLeader;
}

export interface AlertFilter {
  statuses?: readonly AlertStatus[];
  device?: string;
  rule?: string;
  severities?: readonly string[];
  from?: number;
  to?: number;
  before?: { startedAt: number; id: string };
  limit: number;
}

export interface AlertDetail extends AlertView {
  /** The alert's transitions, oldest first (events from the log). */
  history: StoredEvent[];
  deliveries: DeliveryView[];
}

export class AlertService {
  readonly rules: AlertRules;
  readonly evaluator: AlertEvaluator;
  readonly lifecycle: AlertLifecycle;
  readonly dispatcher: WebhookDispatcher;
  readonly #storage: Storage;
  readonly #leader: AlertLeader | undefined;
  #evaluating = false;
  #leading: Promise<void> = Promise.resolve();

  private constructor(options: AlertServiceOptions) {
    const { storage, bus, clock, logger } = options;
    const metrics = alertMetrics(options.metrics.registry);
    this.#storage = storage;
    this.#leader = options.leader;
    this.dispatcher = new WebhookDispatcher({
      store: storage.alerts,
      clock,
      logger,
      metrics,
      ...(options.settings?.webhooks && { settings: options.settings.webhooks }),
      ...(options.fetch && { fetch: options.fetch }),
    });
    this.lifecycle = new AlertLifecycle({
      storage,
      bus,
      clock,
      logger,
      metrics,
      dispatcher: this.dispatcher,
      webhooksOf: (id) => this.rules.webhooksOf(id),
    });
    this.evaluator = new AlertEvaluator({
      registry: options.registry,
      bus,
      clock,
      logger,
      metrics,
      lifecycle: this.lifecycle,
      ...(options.settings?.evaluator && { settings: options.settings.evaluator }),
    });
    this.rules = new AlertRules({
      storage,
      clock,
      evaluator: this.evaluator,
      ...(options.onRulesChanged && { onChange: options.onRulesChanged }),
    });
  }

  static async open(options: AlertServiceOptions): Promise<AlertService> {
    const service = new AlertService(options);
    if (options.leaderOnly) await service.rules.load();
    else await service.lead();
    return service;
  }

  /**
   * Starts evaluating: loads the rules and the open alerts (carrying on where the previous
   * evaluator stopped), listens, and resumes pending webhook deliveries. No-op while evaluating.
   */
  lead(): Promise<void> {
    return this.#serial(async () => {
      if (this.#evaluating) return;
      const rules = await this.rules.load();
      const open = await this.lifecycle.load();
      this.evaluator.start(rules, open);
      this.#evaluating = true;
      await this.#resumeDeliveries();
    });
  }

  /** Stops evaluating: another hub of the fleet leads now (and holds the open alerts). */
  follow(): Promise<void> {
    return this.#serial(() => {
      if (!this.#evaluating) return;
      this.#evaluating = false;
      this.evaluator.stop();
      this.lifecycle.forget();
    });
  }

  /** Another hub changed the rules: read them again, and hand the evaluator what changed. */
  reloadRules(): Promise<void> {
    return this.#serial(async () => {
      const rules = await this.rules.load();
      if (!this.#evaluating) return;
      const kept = new Set<string>();
      for (const rule of rules) {
        kept.add(rule.id);
        this.evaluator.setRule(rule);
      }
      for (const id of this.evaluator.ruleIds()) if (!kept.has(id)) this.evaluator.removeRule(id);
    });
  }

  /**
   * A user's ack or resolve. The hub that evaluates applies it (in memory, where its evaluator
   * sees it at once); a follower forwards it to the leader, or, with no leader right now, writes
   * it to storage itself. `local`: a forwarded one arriving here, never forwarded again.
   */
  async act(action: AlertAction, id: string, metadata: EventMetadata, options: { local?: boolean } = {}) {
    if (this.#leader && !options.local && !this.#evaluating) {
      const view = await this.#leader.forward(action, id, metadata.actor);
      if (view) return view;
    }
    // After any change of leadership under way: memory or storage, whichever holds the truth then.
    return this.#serial(async () => alertView(await this.lifecycle[action](id, metadata)));
  }

  acknowledge(id: string, metadata: EventMetadata): Promise<AlertView> {
    return this.act('acknowledge', id, metadata);
  }

  resolve(id: string, metadata: EventMetadata): Promise<AlertView> {
    return this.act('resolve', id, metadata);
  }

  /** One alert with its history and webhook deliveries, or 404. */
  async get(id: string): Promise<AlertDetail> {
    const row = await this.lifecycle.get(id);
    // History first: it waits for the writes under way, deliveries included.
    const history = await this.lifecycle.history(row);
    const deliveries = await this.#storage.alerts.deliveriesOf(id);
    return { ...alertView(row), history, deliveries: deliveries.map(deliveryView) };
  }

  /** Alerts matching the filter, newest first. */
  async list(filter: AlertFilter): Promise<AlertView[]> {
    await this.lifecycle.flush();
    const query: AlertQuery = { limit: filter.limit };
    if (filter.statuses) query.statuses = filter.statuses;
    if (filter.device !== undefined) query.deviceId = filter.device;
    if (filter.rule !== undefined) query.ruleId = filter.rule;
    if (filter.severities) query.severities = filter.severities;
    if (filter.from !== undefined) query.from = filter.from;
    if (filter.to !== undefined) query.to = filter.to;
    if (filter.before) query.before = filter.before;
    return (await this.#storage.alerts.listAlerts(query)).map(alertView);
  }

  /**
   * Every alert open at some time in [from, to), of one device or all, newest first (at most
   * `limit`, default 10,000): what reports count and chart.
   */
  history(range: { from: number; to: number; device?: string; limit?: number }): Promise<AlertView[]> {
    return this.list({
      from: range.from,
      to: range.to,
      ...(range.device !== undefined && { device: range.device }),
      limit: range.limit ?? 10_000,
    });
  }

  /** Leading, following, reloading and users' actions run one after another; a failure does not stop the next. */
  #serial<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.#leading.then(work);
    this.#leading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once the transitions decided so far are stored (tests, and a clean shutdown). */
  flush(): Promise<void> {
    return this.lifecycle.flush();
  }

  /** Stops evaluating, writes what was decided, and ends running webhook attempts (pending ones resume at the next start). */
  async close(): Promise<void> {
    await this.#leading;
    this.evaluator.close();
    await this.lifecycle.flush();
    await this.dispatcher.close();
  }

  /** Deliveries a stopped hub left pending are queued again, with their rule's secret. */
  async #resumeDeliveries(): Promise<void> {
    const pending = await this.#storage.alerts.pendingDeliveries(this.dispatcher.settings.maxQueued);
    for (const row of pending) {
      const hook = this.rules.webhooksOf(row.ruleId).find((h) => h.url === row.url);
      if (!hook) {
        row.status = 'failed';
        row.lastError = 'the rule or its webhook was removed before the delivery succeeded';
        await this.#storage.alerts.updateDelivery(row);
        continue;
      }
      this.dispatcher.enqueue({ row, secret: hook.secret });
    }
  }
}
