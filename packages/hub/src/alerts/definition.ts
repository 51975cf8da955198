import { parseSelector, type Requirement } from '@flotilla/protocol';
import { MAX_NAME_LENGTH, NAME_RE } from '../telemetry/validate.js';

/**
 * What an alert rule says, as a client writes it (docs/alerts.md), and its compiled form the
 * evaluator runs. Validation is done here by hand rather than by the route's JSON Schema: a
 * condition tree is a union of shapes, and Ajv's answer to a bad member of a union is a list of
 * every branch it tried. Here each problem is one message naming its path
 * (`condition.or[1].clear: …`), refused with `invalid_alert_rule`.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const COMPARATORS = ['>', '>=', '<', '<='] as const;
export type Comparator = (typeof COMPARATORS)[number];
export const RATE_UNITS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;
export type RateUnit = keyof typeof RATE_UNITS;

/** A duration as written: `30s`, `5m`, `1h30m`, `500ms`, or milliseconds. */
export type Duration = string | number;

export type ConditionInput =
  | { and: ConditionInput[] }
  | { or: ConditionInput[] }
  | { type: 'threshold'; metric: string; op: Comparator; value: number; for?: Duration; clear?: number }
  | { type: 'battery'; below: number; metric?: string; for?: Duration; clear?: number }
  | { type: 'offline'; for: Duration }
  | { type: 'no_data'; for: Duration; metric?: string }
  | {
      type: 'rate';
      metric: string;
      op: Comparator;
      value: number;
      per?: RateUnit;
      window: Duration;
      for?: Duration;
      clear?: number;
    };

export interface WebhookInput {
  url: string;
  /** Signs each delivery (HMAC-SHA256, `X-Flotilla-Signature`); never shown again. */
  secret?: string;
}

/** A rule's definition: everything but its id and timestamps. */
export interface RuleDefinition {
  name: string;
  description?: string;
  /** Label selector of the devices the rule watches; empty or absent: every device. */
  selector?: string;
  severity: Severity;
  enabled: boolean;
  condition: ConditionInput;
  webhooks: WebhookInput[];
}

export type Leaf =
  | { kind: 'threshold'; index: number; metric: string; op: Comparator; value: number; clear: number; forMs: number }
  | { kind: 'offline'; index: number; forMs: number }
  | { kind: 'no_data'; index: number; forMs: number; metric: string | undefined }
  | {
      kind: 'rate';
      index: number;
      metric: string;
      op: Comparator;
      value: number;
      clear: number;
      perMs: number;
      windowMs: number;
      forMs: number;
    };

export type ConditionNode = { kind: 'and' | 'or'; children: ConditionNode[] } | Leaf;

export interface CompiledRule {
  id: string;
  name: string;
  severity: Severity;
  enabled: boolean;
  selector: Requirement[];
  root: ConditionNode;
  /** Every leaf, by `index`. */
  leaves: Leaf[];
  webhooks: WebhookInput[];
}

export const LIMITS = {
  depth: 4,
  leaves: 16,
  webhooks: 5,
  forMs: 7 * 86_400_000,
  windowMs: 86_400_000,
  nameLength: 128,
  descriptionLength: 1024,
  urlLength: 2048,
  secretLength: 256,
} as const;

export class RuleProblem extends Error {
  override readonly name = 'RuleProblem';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `1h30m`, `500ms` or a whole number of ms → ms; undefined when malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || !/^(\d{1,9}(ms|s|m|h|d))+$/.test(value)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|s|m|h|d)/g))
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return ms;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new RuleProblem(`${path}: ${message}`);
}

function only(o: Obj, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(o)) if (!keys.includes(key)) fail(path, `unknown property ${JSON.stringify(key)}`);
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'must be a finite number');
  return v;
}

function duration(v: unknown, path: string, max: number, min = 0): number {
  const ms = parseDuration(v);
  if (ms === undefined) fail(path, 'must be a duration such as 30s, 5m or 1h30m (or milliseconds)');
  if (ms < min || ms > max) fail(path, `must be from ${min} ms to ${max / 86_400_000} days`);
  return ms;
}

function metricName(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME_LENGTH || !NAME_RE.test(v))
    fail(path, 'must be a metric name: a letter or _ then letters, digits and _ . : - (128 at most)');
  return v;
}

function comparator(v: unknown, path: string): Comparator {
  if (!(COMPARATORS as readonly unknown[]).includes(v)) fail(path, `must be one of ${COMPARATORS.join(' ')}`);
  return v as Comparator;
}

/**
 * The clear level of a hysteresis: past it (on the safe side) an active condition clears. It must
 * sit on the safe side of the trigger level, or the condition could never clear.
 */
function clearLevel(o: Obj, path: string, op: Comparator, value: number): number {
  if (o['clear'] === undefined) return value;
  const clear = finite(o['clear'], `${path}.clear`);
  const above = op === '>' || op === '>=';
  if (above ? clear > value : clear < value)
    fail(`${path}.clear`, `must be ${above ? 'at or below' : 'at or above'} the trigger value ${value} for ${op}`);
  return clear;
}

class Compiler {
  readonly leaves: Leaf[] = [];

  node(input: unknown, path: string, depth: number): ConditionNode {
    if (!isObject(input)) fail(path, 'must be an object: {and: [...]}, {or: [...]} or a condition with a type');
    if (depth > LIMITS.depth) fail(path, `conditions nest ${LIMITS.depth} deep at most`);
    for (const kind of ['and', 'or'] as const) {
      if (kind in input) {
        only(input, path, [kind]);
        const list = input[kind];
        if (!Array.isArray(list) || list.length === 0)
          fail(`${path}.${kind}`, 'must be a non-empty array of conditions');
        return { kind, children: list.map((child, i) => this.node(child, `${path}.${kind}[${i}]`, depth + 1)) };
      }
    }
    if (this.leaves.length >= LIMITS.leaves) fail(path, `a rule holds ${LIMITS.leaves} conditions at most`);
    const leaf = this.leaf(input, path, this.leaves.length);
    this.leaves.push(leaf);
    return leaf;
  }

  leaf(o: Obj, path: string, index: number): Leaf {
    const forMs = (key = 'for') => (o[key] === undefined ? 0 : duration(o[key], `${path}.${key}`, LIMITS.forMs));
    switch (o['type']) {
      case 'threshold': {
        only(o, path, ['type', 'metric', 'op', 'value', 'for', 'clear']);
        const op = comparator(o['op'], `${path}.op`);
        const value = finite(o['value'], `${path}.value`);
        const metric = metricName(o['metric'], `${path}.metric`);
        return { kind: 'threshold', index, metric, op, value, clear: clearLevel(o, path, op, value), forMs: forMs() };
      }
      case 'battery': {
        only(o, path, ['type', 'below', 'metric', 'for', 'clear']);
        const value = finite(o['below'], `${path}.below`);
        const metric = o['metric'] === undefined ? 'battery' : metricName(o['metric'], `${path}.metric`);
        return {
          kind: 'threshold',
          index,
          metric,
          op: '<',
          value,
          clear: clearLevel(o, path, '<', value),
          forMs: forMs(),
        };
      }
      case 'offline':
        only(o, path, ['type', 'for']);
        if (o['for'] === undefined) fail(`${path}.for`, 'is required: how long the device must be offline');
        return { kind: 'offline', index, forMs: forMs() };
      case 'no_data': {
        only(o, path, ['type', 'for', 'metric']);
        if (o['for'] === undefined) fail(`${path}.for`, 'is required: how long without telemetry');
        const metric = o['metric'] === undefined ? undefined : metricName(o['metric'], `${path}.metric`);
        return { kind: 'no_data', index, forMs: duration(o['for'], `${path}.for`, LIMITS.forMs, 1000), metric };
      }
      case 'rate': {
        only(o, path, ['type', 'metric', 'op', 'value', 'per', 'window', 'for', 'clear']);
        const metric = metricName(o['metric'], `${path}.metric`);
        const op = comparator(o['op'], `${path}.op`);
        const value = finite(o['value'], `${path}.value`);
        const per = o['per'] ?? 'minute';
        if (typeof per !== 'string' || !(per in RATE_UNITS)) fail(`${path}.per`, 'must be second, minute or hour');
        if (o['window'] === undefined) fail(`${path}.window`, 'is required: the span the rate is measured over');
        const windowMs = duration(o['window'], `${path}.window`, LIMITS.windowMs, 1000);
        const perMs = RATE_UNITS[per as RateUnit];
        return {
          kind: 'rate',
          index,
          metric,
          op,
          value,
          clear: clearLevel(o, path, op, value),
          perMs,
          windowMs,
          forMs: forMs(),
        };
      }
      default:
        return fail(`${path}.type`, 'must be threshold, battery, offline, no_data or rate (or use and/or)');
    }
  }
}

function webhooks(value: unknown): WebhookInput[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('webhooks', 'must be an array of {url, secret?}');
  if (value.length > LIMITS.webhooks) fail('webhooks', `a rule has ${LIMITS.webhooks} webhooks at most`);
  return value.map((hook: unknown, i) => {
    const path = `webhooks[${i}]`;
    if (!isObject(hook)) fail(path, 'must be an object {url, secret?}');
    only(hook, path, ['url', 'secret']);
    const url = hook['url'];
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' && url.length <= LIMITS.urlLength ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
      fail(`${path}.url`, `must be an http or https URL (${LIMITS.urlLength} characters at most)`);
    const secret = hook['secret'];
    if (secret === undefined) return { url: url as string };
    if (typeof secret !== 'string' || secret.length < 8 || secret.length > LIMITS.secretLength)
      fail(`${path}.secret`, `must be a string of 8 to ${LIMITS.secretLength} characters`);
    return { url: url as string, secret };
  });
}

/** Checks a whole definition (a POST body, or a stored rule merged with a PATCH); throws RuleProblem. */
export function validateDefinition(input: unknown): RuleDefinition {
  if (!isObject(input)) fail('rule', 'must be an object');
  only(input, 'rule', ['name', 'description', 'selector', 'severity', 'enabled', 'condition', 'webhooks']);
  const { name, description, selector, severity, enabled } = input;
  if (typeof name !== 'string' || !/^\S(.*\S)?$/.test(name) || name.length > LIMITS.nameLength)
    fail('name', `must be 1 to ${LIMITS.nameLength} characters without leading or trailing spaces`);
  if (description !== undefined && (typeof description !== 'string' || description.length > LIMITS.descriptionLength))
    fail('description', `must be a string of ${LIMITS.descriptionLength} characters at most`);
  if (selector !== undefined) {
    if (typeof selector !== 'string') fail('selector', 'must be a label selector string such as type=lekiwi,site=lab');
    const parsed = parseSelector(selector);
    if (!parsed.ok) fail('selector', parsed.message);
  }
  if (!(SEVERITIES as readonly unknown[]).includes(severity))
    fail('severity', `must be one of ${SEVERITIES.join(', ')}`);
  if (enabled !== undefined && typeof enabled !== 'boolean') fail('enabled', 'must be true or false');
  new Compiler().node(input['condition'], 'condition', 1);
  return {
    name,
    ...(description !== undefined && { description: description as string }),
    ...(selector !== undefined && { selector: selector as string }),
    severity: severity as Severity,
    enabled: enabled ?? true,
    condition: input['condition'] as ConditionInput,
    webhooks: webhooks(input['webhooks']),
  };
}

/** The evaluator's form of a stored rule (whose definition was validated when it was written). */
export function compileRule(id: string, definition: RuleDefinition): CompiledRule {
  const compiler = new Compiler();
  const root = compiler.node(definition.condition, 'condition', 1);
  const parsed = parseSelector(definition.selector ?? '');
  return {
    id,
    name: definition.name,
    severity: definition.severity,
    enabled: definition.enabled,
    selector: parsed.ok ? parsed.requirements : [],
    root,
    leaves: compiler.leaves,
    webhooks: definition.webhooks,
  };
}
