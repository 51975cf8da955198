import { randomUUID } from 'node:crypto';
import type { Clock, EventMetadata } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import type { AlertRuleRow } from '../storage/alerts.js';
import type { Storage } from '../storage/types.js';
import { compileRule, RuleProblem, validateDefinition, type RuleDefinition } from './definition.js';
import type { AlertEvaluator } from './evaluator.js';
import { AlertEventTypes } from './lifecycle.js';
import { ruleView, type RuleView } from './views.js';

/**
 * Alert rules as stored resources: validated, written, recorded in the event log (on the rule's
 * own aggregate, with the actor; secrets left out) and handed to the evaluator. Changes run one
 * after another, so two clients racing on one rule each see the other's result.
 */

/** Rules a hub holds at most: each one costs evaluation work on every matching message. */
export const MAX_RULES = 1000;

/** What PATCH may change; absent fields stay as they are. */
export type RulePatch = Partial<Record<keyof RuleDefinition, unknown>>;

interface Held {
  row: AlertRuleRow;
  definition: RuleDefinition;
}

export class AlertRules {
  readonly #storage: Pick<Storage, 'alerts' | 'appendEvents'>;
  readonly #clock: Clock;
  readonly #evaluator: AlertEvaluator;
  readonly #rules = new Map<string, Held>();
  readonly #onChange: (() => void) | undefined;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(options: {
    storage: Pick<Storage, 'alerts' | 'appendEvents'>;
    clock: Clock;
    evaluator: AlertEvaluator;
    /** Told after a rule was created, changed or deleted here (other hubs of the fleet reload theirs). */
    onChange?: () => void;
  }) {
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#evaluator = options.evaluator;
    this.#onChange = options.onChange;
  }

  /** Reads every stored rule; returns them compiled for the evaluator. */
  async load(): Promise<ReturnType<typeof compileRule>[]> {
    const compiled = [];
    const rows = await this.#storage.alerts.listRules();
    // Read again after another hub changed them: what is gone from storage is gone here.
    this.#rules.clear();
    for (const row of rows) {
      const definition = row.definition as unknown as RuleDefinition;
      this.#rules.set(row.id, { row, definition });
      compiled.push(compileRule(row.id, definition));
    }
    return compiled;
  }

  list(): RuleView[] {
    return [...this.#rules.values()]
      .sort((a, b) => (a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0))
      .map((held) => ruleView(held.row, held.definition));
  }

  get(id: string): RuleView {
    const held = this.#rules.get(id);
    if (!held) throw new ApiError(ApiErrors.ALERT_RULE_NOT_FOUND, `no alert rule ${id}`);
    return ruleView(held.row, held.definition);
  }

  create(input: unknown, metadata: EventMetadata): Promise<RuleView> {
    return this.#serial(async () => {
      const definition = validate(input);
      if (this.#rules.size >= MAX_RULES) {
        throw new ApiError(ApiErrors.TOO_MANY_ALERT_RULES, `the hub holds ${MAX_RULES} alert rules at most`);
      }
      this.#nameFree(definition.name, undefined);
      const now = this.#clock.now();
      const row: AlertRuleRow = {
        id: randomUUID(),
        name: definition.name,
        definition: definition as unknown as Record<string, unknown>,
        createdBy: metadata.actor,
        createdAt: now,
        updatedAt: now,
      };
      await this.#write(() => this.#storage.alerts.insertRule(row), definition.name);
      this.#rules.set(row.id, { row, definition });
      await this.#event(row.id, AlertEventTypes.RuleCreated, definition, metadata);
      this.#evaluator.setRule(compileRule(row.id, definition));
      this.#onChange?.();
      return ruleView(row, definition);
    });
  }

  /**
   * Changes a rule. A new condition, selector or severity resolves its open alerts (`rule_changed`,
   * see AlertEvaluator.setRule): they were decided by the old rule, and the new one fires afresh.
   */
  update(id: string, patch: RulePatch, metadata: EventMetadata): Promise<RuleView> {
    return this.#serial(async () => {
      const held = this.#rules.get(id);
      if (!held) throw new ApiError(ApiErrors.ALERT_RULE_NOT_FOUND, `no alert rule ${id}`);
      const merged: Record<string, unknown> = { ...held.definition };
      for (const [key, value] of Object.entries(patch)) {
        // null removes an optional field (description, selector); the schema refuses it elsewhere.
        if (value === null) delete merged[key];
        else if (value !== undefined) merged[key] = value;
      }
      const definition = validate(merged);
      this.#nameFree(definition.name, id);
      const row: AlertRuleRow = {
        ...held.row,
        name: definition.name,
        definition: definition as unknown as Record<string, unknown>,
        updatedAt: this.#clock.now(),
      };
      await this.#write(() => this.#storage.alerts.updateRule(row), definition.name);
      this.#rules.set(id, { row, definition });
      await this.#event(id, AlertEventTypes.RuleUpdated, definition, metadata);
      this.#evaluator.setRule(compileRule(id, definition));
      this.#onChange?.();
      return ruleView(row, definition);
    });
  }

  /** Deletes a rule; its open alerts resolve (`rule_deleted`). */
  delete(id: string, metadata: EventMetadata): Promise<void> {
    return this.#serial(async () => {
      const held = this.#rules.get(id);
      if (!held) throw new ApiError(ApiErrors.ALERT_RULE_NOT_FOUND, `no alert rule ${id}`);
      await this.#storage.alerts.deleteRule(id);
      this.#rules.delete(id);
      this.#evaluator.removeRule(id);
      await this.#event(id, AlertEventTypes.RuleDeleted, { name: held.definition.name }, metadata);
      this.#onChange?.();
    });
  }

  /** The webhooks of a rule (with their secrets), for deliveries; empty when the rule is gone. */
  webhooksOf(id: string): RuleDefinition['webhooks'] {
    return this.#rules.get(id)?.definition.webhooks ?? [];
  }

  #nameFree(name: string, self: string | undefined): void {
    for (const [id, held] of this.#rules) {
      if (id !== self && held.definition.name === name) {
        throw new ApiError(ApiErrors.ALERT_RULE_EXISTS, `an alert rule named ${JSON.stringify(name)} exists (${id})`);
      }
    }
  }

  /** A write the unique name index may refuse (another hub on the same database took the name). */
  async #write(write: () => Promise<unknown>, name: string): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (this.#storage.alerts.isNameTaken(err)) {
        throw new ApiError(ApiErrors.ALERT_RULE_EXISTS, `an alert rule named ${JSON.stringify(name)} exists`);
      }
      throw err;
    }
  }

  async #event(id: string, type: string, data: object, metadata: EventMetadata): Promise<void> {
    const { webhooks, ...rest } = data as Partial<RuleDefinition>;
    const recorded = webhooks === undefined ? rest : { ...rest, webhooks: webhooks.map((hook) => hook.url) };
    await this.#storage.appendEvents([
      { id: randomUUID(), aggregateId: id, type, ts: this.#clock.now(), data: { id, ...recorded }, metadata },
    ]);
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#changes.then(run, run);
    this.#changes = result.catch(() => undefined);
    return result;
  }
}

function validate(input: unknown): RuleDefinition {
  try {
    return validateDefinition(input);
  } catch (err) {
    if (err instanceof RuleProblem) throw new ApiError(ApiErrors.INVALID_ALERT_RULE, err.message);
    throw err;
  }
}
