import type { Logger } from 'pino';
import type { Clock, Device, TimerHandle } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { AlertRow } from '../storage/alerts.js';
import type { CompiledRule, Leaf } from './definition.js';
import { describeLeaf } from './describe.js';
import { LastData } from './last-data.js';
import { addRateSample, feedLatch, holds, newLeafState, promote } from './leaf-state.js';
import type { AlertLifecycle } from './lifecycle.js';
import type { AlertMetrics } from './metrics.js';
import { evaluatesAs, inScope, isIdle, isPending, isValueLeaf, pairKey, type Pair } from './pair.js';

/**
 * Decides when alerts fire and resolve. Three things drive it:
 * - telemetry on the bus (`flotilla.<id>.telemetry`, `{ts, metrics}`): each metric is looked up
 *   in an index of the rules that name it, so a message costs work in proportion to the rules
 *   about its metrics, not to all rules;
 * - the registry's status messages (`flotilla.<id>.status`): online/offline, label changes that
 *   take a device out of a rule's scope, decommissioning;
 * - a tick on the injected clock: `for` durations that ran out, offline and no-data conditions.
 *
 * State is per (rule, device) pair and exists only while it matters: a condition pending or
 * active, rate samples being measured, or an open alert. Idle pairs are dropped at once, pairs
 * of a deleted device or rule with it, so the state never outgrows what is actually happening.
 * After a restart the pairs of open alerts are rebuilt from storage (`restore`), so an alert
 * that was firing neither fires again nor is forgotten.
 */

export interface EvaluatorSettings {
  /** How often `for` durations, offline and no-data conditions are checked (default 1 s). */
  tickMs: number;
  /** Telemetry older than this (by its own `ts`) is not evaluated: replayed backlog is history, not news (default 60 s). */
  maxLagMs: number;
}

export const EVALUATOR_DEFAULTS: EvaluatorSettings = { tickMs: 1000, maxLagMs: 60_000 };

export interface AlertEvaluatorOptions {
  registry: { get(id: string): Device | undefined; list(): Device[] };
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: AlertMetrics;
  lifecycle: AlertLifecycle;
  settings?: Partial<EvaluatorSettings>;
}

type Telemetry = { ts?: unknown; metrics?: Record<string, unknown> };

export class AlertEvaluator {
  readonly settings: EvaluatorSettings;
  readonly #o: AlertEvaluatorOptions;
  readonly #rules = new Map<string, CompiledRule>();
  /** Enabled rules with a threshold or rate condition on the metric. */
  readonly #byMetric = new Map<string, Set<CompiledRule>>();
  /** Enabled rules with an offline or no-data condition: checked on every tick. */
  readonly #timed = new Set<CompiledRule>();
  readonly #pairs = new Map<string, Pair>();
  readonly #byDevice = new Map<string, Set<string>>();
  /** Pairs with a condition waiting for its `for`. */
  readonly #pending = new Set<string>();
  readonly #lastData = new LastData();
  /** Metrics no-data conditions name. */
  readonly #watched = new Set<string>();
  readonly #startedAt: number;
  #unsubscribe: Array<() => void> = [];
  #timer: TimerHandle | undefined;

  constructor(options: AlertEvaluatorOptions) {
    this.#o = options;
    this.settings = { ...EVALUATOR_DEFAULTS, ...options.settings };
    this.#startedAt = options.clock.now();
    options.lifecycle.onReleased((alert) => this.#released(alert));
  }

  /** Loads the rules, rebuilds the pairs of open alerts, and starts listening and ticking. */
  start(rules: readonly CompiledRule[], open: readonly AlertRow[]): void {
    for (const rule of rules) this.setRule(rule);
    for (const alert of open) this.#restore(alert);
    const { bus, clock } = this.#o;
    this.#unsubscribe = [
      bus.subscribe('flotilla.*.telemetry', (subject, data) => this.#telemetry(deviceOf(subject), data as Telemetry)),
      bus.subscribe('flotilla.*.status', (subject, data) => this.#status(deviceOf(subject), data)),
    ];
    this.#timer = clock.setInterval(() => this.tick(), this.settings.tickMs);
    this.#gauge();
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /**
   * Stops evaluating and forgets every pair, keeping the rules: another hub of the fleet
   * evaluates now (several hubs on NATS), and `start` rebuilds the pairs from storage if this
   * one takes over again.
   */
  stop(): void {
    this.close();
    this.#pairs.clear();
    this.#byDevice.clear();
    this.#pending.clear();
    this.#lastData.clear();
    this.#gauge();
  }

  /** Ids of the rules held (enabled or not). */
  ruleIds(): string[] {
    return [...this.#rules.keys()];
  }

  /** Pairs held: what `flotilla_alert_evaluator_states` reports. */
  get size(): number {
    return this.#pairs.size;
  }

  /**
   * Adds or replaces a rule. A replaced rule whose conditions, scope, severity or state changed
   * resolves its open alerts (`rule_changed`, or `rule_disabled`): they were decided by the old
   * rule. A change of name, description or webhooks keeps them.
   */
  setRule(rule: CompiledRule): void {
    const previous = this.#rules.get(rule.id);
    if (previous && evaluatesAs(previous) === evaluatesAs(rule)) {
      this.#replace(previous, rule);
      return;
    }
    if (previous) this.#drop(previous, rule.enabled ? 'rule_changed' : 'rule_disabled');
    this.#rules.set(rule.id, rule);
    if (!rule.enabled) return;
    for (const leaf of rule.leaves) {
      if (isValueLeaf(leaf)) {
        let set = this.#byMetric.get(leaf.metric);
        if (!set) this.#byMetric.set(leaf.metric, (set = new Set()));
        set.add(rule);
      } else {
        this.#timed.add(rule);
        if (leaf.kind === 'no_data' && leaf.metric !== undefined) this.#watched.add(leaf.metric);
      }
    }
  }

  /** Forgets a rule; its open alerts resolve (`rule_deleted`). */
  removeRule(id: string): void {
    const rule = this.#rules.get(id);
    if (!rule) return;
    this.#drop(rule, 'rule_deleted');
    this.#rules.delete(id);
  }

  rule(id: string): CompiledRule | undefined {
    return this.#rules.get(id);
  }

  /** Promotes conditions whose `for` ran out and checks offline and no-data conditions. Runs on the clock. */
  tick(): void {
    const now = this.#o.clock.now();
    for (const key of [...this.#pending]) {
      const pair = this.#pairs.get(key);
      if (!pair) {
        this.#pending.delete(key);
        continue;
      }
      let changed = false;
      for (const leaf of pair.rule.leaves) {
        const state = pair.leaves[leaf.index];
        if (state && isValueLeaf(leaf) && promote(state, leaf.forMs, now)) changed = true;
      }
      this.#trackPending(pair);
      const device = this.#o.registry.get(pair.deviceId);
      if (changed && device) this.#evaluate(pair.rule, device, now);
    }
    if (this.#timed.size === 0) return;
    for (const device of this.#o.registry.list()) {
      for (const rule of this.#timed) if (inScope(rule, device)) this.#evaluate(rule, device, now);
    }
  }

  #telemetry(deviceId: string, message: Telemetry): void {
    const metrics = message?.metrics;
    if (typeof metrics !== 'object' || metrics === null) return;
    const device = this.#o.registry.get(deviceId);
    if (!device) return;
    const now = this.#o.clock.now();
    if (this.#timed.size > 0) this.#lastData.note(deviceId, metrics, this.#watched, now);
    const ts = typeof message.ts === 'number' ? message.ts : now;
    const touched = new Set<CompiledRule>();
    if (ts >= now - this.settings.maxLagMs) {
      for (const [metric, value] of Object.entries(metrics)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        const rules = this.#byMetric.get(metric);
        if (!rules) continue;
        for (const rule of rules) {
          if (!inScope(rule, device)) continue;
          this.#feed(this.#pair(rule, deviceId), metric, value, ts, now);
          touched.add(rule);
        }
      }
    }
    // Data arriving clears no-data conditions of the alerts that are open.
    for (const rule of this.#timed) if (this.#pairs.has(pairKey(rule.id, deviceId))) touched.add(rule);
    for (const rule of touched) this.#evaluate(rule, device, now);
  }

  #status(deviceId: string, data: unknown): void {
    const device = data as Device | { id: string; decommissioned: true };
    const keys = [...(this.#byDevice.get(deviceId) ?? [])];
    if ('decommissioned' in device) {
      for (const key of keys) this.#forget(key, 'device_removed');
      this.#lastData.delete(deviceId);
      return;
    }
    for (const key of keys) {
      const pair = this.#pairs.get(key);
      if (pair && !inScope(pair.rule, device)) this.#forget(key, 'out_of_scope');
    }
    const now = this.#o.clock.now();
    for (const rule of this.#timed) if (inScope(rule, device)) this.#evaluate(rule, device, now);
  }

  #feed(pair: Pair, metric: string, value: number, ts: number, now: number): void {
    for (const leaf of pair.rule.leaves) {
      if (!isValueLeaf(leaf) || leaf.metric !== metric) continue;
      const state = (pair.leaves[leaf.index] ??= newLeafState());
      if (leaf.kind === 'threshold') feedLatch(state, leaf, value, now);
      else {
        const rate = addRateSample(state, leaf, ts, value);
        if (rate !== undefined) feedLatch(state, leaf, rate, now);
      }
    }
    this.#trackPending(pair);
  }

  /** Decides the pair's alert from its conditions: fire, resolve, or nothing; then drops an idle pair. */
  #evaluate(rule: CompiledRule, device: Device, now: number): void {
    const key = pairKey(rule.id, device.id);
    let pair = this.#pairs.get(key);
    const truth = holds(rule.root, (leaf) => this.#leafTrue(leaf, pair, device, now));
    if (truth) {
      if (!pair?.alertId && !pair?.suppressed) {
        pair ??= this.#pair(rule, device.id);
        const described = rule.leaves
          .filter((leaf) => this.#leafTrue(leaf, pair, device, now))
          .map((leaf) => describeLeaf(leaf, pair?.leaves[leaf.index]?.value ?? null));
        const alert = this.#o.lifecycle.fire({
          rule,
          deviceId: device.id,
          summary: `${device.id}: ${described.join('; ')}`,
          details: { leaves: rule.leaves.map((leaf) => this.#leafDetail(leaf, pair, device, now)) },
          webhooks: rule.webhooks,
        });
        pair.alertId = alert.id;
      }
    } else if (pair) {
      if (pair.alertId) this.#o.lifecycle.resolveBySystem(pair.alertId, 'cleared', rule.webhooks);
      pair.alertId = null;
      pair.suppressed = false;
    }
    if (pair) this.#prune(pair);
  }

  #leafTrue(leaf: Leaf, pair: Pair | undefined, device: Device, now: number): boolean {
    switch (leaf.kind) {
      case 'threshold':
      case 'rate':
        return pair?.leaves[leaf.index]?.active ?? false;
      case 'offline':
        return !device.status.online && now - (device.status.lastSeen ?? device.registeredAt) >= leaf.forMs;
      case 'no_data':
        return now - this.#lastDataAt(device, leaf.metric) >= leaf.forMs;
    }
  }

  #leafDetail(leaf: Leaf, pair: Pair | undefined, device: Device, now: number): Record<string, unknown> {
    const detail: Record<string, unknown> = { type: leaf.kind, active: this.#leafTrue(leaf, pair, device, now) };
    if (isValueLeaf(leaf)) {
      detail['metric'] = leaf.metric;
      detail['value'] = pair?.leaves[leaf.index]?.value ?? null;
    } else if (leaf.kind === 'offline') detail['lastSeen'] = device.status.lastSeen;
    else detail['lastData'] = this.#lastDataAt(device, leaf.metric);
    return detail;
  }

  /** Without telemetry since the hub started, a device counts from then (or from its registration). */
  #lastDataAt(device: Device, metric: string | undefined): number {
    return this.#lastData.at(device.id, metric) ?? Math.max(this.#startedAt, device.registeredAt);
  }

  #pair(rule: CompiledRule, deviceId: string): Pair {
    const key = pairKey(rule.id, deviceId);
    let pair = this.#pairs.get(key);
    if (pair) return pair;
    pair = { key, rule, deviceId, leaves: [], alertId: null, suppressed: false };
    this.#pairs.set(key, pair);
    let keys = this.#byDevice.get(deviceId);
    if (!keys) this.#byDevice.set(deviceId, (keys = new Set()));
    keys.add(key);
    this.#gauge();
    return pair;
  }

  #prune(pair: Pair): void {
    if (isIdle(pair)) this.#remove(pair);
  }

  #remove(pair: Pair): void {
    this.#pairs.delete(pair.key);
    this.#pending.delete(pair.key);
    const keys = this.#byDevice.get(pair.deviceId);
    keys?.delete(pair.key);
    if (keys?.size === 0) this.#byDevice.delete(pair.deviceId);
    this.#gauge();
  }

  /** Drops a pair, resolving its open alert with `resolution`. */
  #forget(key: string, resolution: string): void {
    const pair = this.#pairs.get(key);
    if (!pair) return;
    if (pair.alertId) this.#o.lifecycle.resolveBySystem(pair.alertId, resolution, pair.rule.webhooks);
    this.#remove(pair);
  }

  /** Swaps in a rule object that evaluates the same, keeping every pair and open alert. */
  #replace(previous: CompiledRule, rule: CompiledRule): void {
    this.#rules.set(rule.id, rule);
    for (const pair of this.#pairs.values()) if (pair.rule === previous) pair.rule = rule;
    for (const set of this.#byMetric.values()) if (set.delete(previous)) set.add(rule);
    if (this.#timed.delete(previous)) this.#timed.add(rule);
  }

  #drop(rule: CompiledRule, resolution: string): void {
    for (const [key, pair] of this.#pairs) if (pair.rule.id === rule.id) this.#forget(key, resolution);
    for (const [metric, set] of this.#byMetric) {
      set.delete(rule);
      if (set.size === 0) this.#byMetric.delete(metric);
    }
    this.#timed.delete(rule);
    this.#watched.clear();
    for (const timed of this.#timed) {
      for (const leaf of timed.leaves)
        if (leaf.kind === 'no_data' && leaf.metric !== undefined) this.#watched.add(leaf.metric);
    }
  }

  #trackPending(pair: Pair): void {
    if (isPending(pair)) this.#pending.add(pair.key);
    else this.#pending.delete(pair.key);
  }

  /** A user resolved an alert: stop tracking it, and hold off a new one while the condition still holds. */
  #released(alert: AlertRow): void {
    const pair = this.#pairs.get(pairKey(alert.ruleId, alert.deviceId));
    if (!pair || pair.alertId !== alert.id) return;
    pair.alertId = null;
    pair.suppressed = true;
    const device = this.#o.registry.get(alert.deviceId);
    if (device) this.#evaluate(pair.rule, device, this.#o.clock.now());
    else this.#remove(pair);
  }

  /** Rebuilds the pair of an alert a stopped hub left open, or resolves it when it no longer applies. */
  #restore(alert: AlertRow): void {
    const rule = this.#rules.get(alert.ruleId);
    const device = this.#o.registry.get(alert.deviceId);
    let reason: string | undefined;
    if (!rule) reason = 'rule_deleted';
    else if (!rule.enabled) reason = 'rule_disabled';
    else if (!device) reason = 'device_removed';
    else if (!inScope(rule, device)) reason = 'out_of_scope';
    else if (this.#pairs.get(pairKey(rule.id, alert.deviceId))?.alertId) reason = 'duplicate';
    if (reason !== undefined || !rule) {
      this.#o.lifecycle.resolveBySystem(alert.id, reason ?? 'rule_deleted', rule?.webhooks ?? []);
      return;
    }
    const pair = this.#pair(rule, alert.deviceId);
    pair.alertId = alert.id;
    const leaves = Array.isArray(alert.details['leaves'])
      ? (alert.details['leaves'] as Array<Record<string, unknown>>)
      : [];
    for (const leaf of rule.leaves) {
      const saved = leaves[leaf.index];
      if (leaf.kind === 'no_data' && typeof saved?.['lastData'] === 'number') {
        // The device's silence goes back to before the restart: keep counting from then.
        this.#lastData.seed(alert.deviceId, leaf.metric, saved['lastData']);
      }
      if (!isValueLeaf(leaf)) continue;
      // What was active when it fired is active still, until a value says otherwise.
      pair.leaves[leaf.index] = {
        active: saved?.['active'] !== false,
        pendingSince: null,
        value: typeof saved?.['value'] === 'number' ? saved['value'] : null,
      };
    }
  }

  #gauge(): void {
    this.#o.metrics.states.set(this.#pairs.size);
  }
}

function deviceOf(subject: string): string {
  return subject.split('.')[1] ?? '';
}
