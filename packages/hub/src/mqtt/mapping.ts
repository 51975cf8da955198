import { Type, type Static } from '@sinclair/typebox';
import { COMMAND_STATUSES, Capability, compileSchema, isDeviceId, type ParseResult } from '@flotilla/protocol';
import type { DevicePublishKind } from './topics.js';

/**
 * Topic mapping rules (docs/mqtt.md, "Topic mapping"): an existing fleet keeps its own MQTT
 * topics and payload shapes, and the hub reads and writes them as if they were the Flotilla
 * topics. A rule set applies to the devices whose id matches its `devices` pattern; it names, per
 * message kind, the legacy topic (with `{device}` standing for the device id) and how the payload
 * is reshaped. Pure: the embedded broker and the bridge ask it and act on the answer.
 */

const Pattern = Type.String({ minLength: 3, maxLength: 256 });

/** Field names, where a legacy payload keeps what the Flotilla payload calls otherwise. */
const ResultShape = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Type.String({ minLength: 1 })),
    result: Type.Optional(Type.String({ minLength: 1 })),
    error: Type.Optional(Type.String({ minLength: 1 })),
    /** Legacy status values → `succeeded` | `failed` | `timed_out` | `cancelled`. */
    statusValues: Type.Optional(Type.Record(Type.String(), Type.Union(COMMAND_STATUSES.map((s) => Type.Literal(s))))),
  },
  { additionalProperties: false },
);

export const MqttMappingRule = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }),
    /** Device ids the rules apply to: a glob where `*` stands for any run of characters (`tonypi-*`). */
    devices: Type.String({ minLength: 1, maxLength: 128 }),
    /** What the hub records for these devices when they do not say it themselves. */
    facts: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          capabilities: Type.Optional(Type.Array(Capability, { maxItems: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
    topics: Type.Object(
      {
        telemetry: Type.Optional(Pattern),
        status: Type.Optional(Pattern),
        event: Type.Optional(Pattern),
        log: Type.Optional(Pattern),
        result: Type.Optional(Pattern),
        progress: Type.Optional(Pattern),
        command: Type.Optional(Pattern),
        cancel: Type.Optional(Pattern),
      },
      { additionalProperties: false },
    ),
    telemetry: Type.Optional(
      Type.Object(
        {
          /** Nested objects become dotted metric names (`{"cpu":{"temp":51}}` → `cpu.temp`); default true. */
          flatten: Type.Optional(Type.Boolean()),
          /** Field of the sample time; default `ts`. */
          timestamp: Type.Optional(Type.String({ minLength: 1 })),
          /** `ms` (default), `s` (seconds, may have decimals) or `iso` (an ISO 8601 string). */
          timestampUnit: Type.Optional(Type.Union([Type.Literal('ms'), Type.Literal('s'), Type.Literal('iso')])),
          /** Fields that are not metrics (an id, a name): dropped. Booleans become 1 and 0. */
          ignore: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Field of a JSON status payload holding `online`/`offline`; default `state`. */
    status: Type.Optional(
      Type.Object({ field: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
    ),
    result: Type.Optional(ResultShape),
    /**
     * The command payload the device expects: a JSON value whose strings may hold `{id}`,
     * `{capability}`, `{command}`, `{args}`, `{timeoutMs}` and `{device}`. A string that is only
     * a placeholder takes the value itself (`"{args}"` → the args object).
     */
    command: Type.Optional(Type.Object({ template: Type.Unknown() }, { additionalProperties: false })),
    /** The cancel payload: a template with `{id}`, `{reason}` and `{device}`. */
    cancel: Type.Optional(Type.Object({ template: Type.Unknown() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type MqttMappingRule = Static<typeof MqttMappingRule>;

/** Compiled on first use: most hubs have no rules, and every hub start pays for what is compiled at import. */
let validRules: ((value: unknown) => ParseResult<MqttMappingRule[]>) | undefined;

type TopicKind = keyof MqttMappingRule['topics'];
const INBOUND: readonly DevicePublishKind[] = ['telemetry', 'status', 'event', 'log', 'result', 'progress'];
/** Placeholders a topic of each kind may hold besides `{device}` (a cancel names only its command id, in the payload). */
const PLACEHOLDERS: Partial<Record<TopicKind, readonly string[]>> = {
  telemetry: ['metric'],
  event: ['type'],
  command: ['capability', 'command'],
};

/** A topic pattern split in levels: literal strings, or the placeholder it stands for. */
type Level = { literal: string } | { placeholder: string };

export interface CompiledRule {
  readonly rule: MqttMappingRule;
  readonly devices: RegExp;
  readonly topics: Partial<Record<TopicKind, Level[]>>;
}

/** A legacy publish, understood: the device it is from, its kind and name, and the rule that reshapes it. */
export interface MappedTopic {
  readonly device: string;
  readonly kind: DevicePublishKind;
  readonly name?: string;
  readonly rule: CompiledRule;
}

export class MappingError extends Error {
  override readonly name = 'MappingError';
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function parsePattern(rule: string, kind: TopicKind, pattern: string): Level[] {
  const allowed = new Set(['device', ...(PLACEHOLDERS[kind] ?? [])]);
  const levels = pattern.split('/').map((level): Level => {
    const match = /^\{([a-z]+)\}$/.exec(level);
    if (match) {
      const placeholder = match[1] as string;
      if (!allowed.has(placeholder))
        throw new MappingError(`mapping ${rule}: {${placeholder}} cannot stand in the ${kind} topic ${pattern}`);
      return { placeholder };
    }
    if (level === '' || /[+#{}]/.test(level))
      throw new MappingError(
        `mapping ${rule}: ${kind} topic ${pattern} has an empty level, a wildcard or a placeholder that is not a whole level`,
      );
    return { literal: level };
  });
  const devices = levels.filter((l) => 'placeholder' in l && l.placeholder === 'device').length;
  if (devices !== 1) throw new MappingError(`mapping ${rule}: ${kind} topic ${pattern} must hold {device} once`);
  const first = levels[0];
  if (first && 'literal' in first && (first.literal === 'flotilla' || first.literal.startsWith('$')))
    throw new MappingError(`mapping ${rule}: ${kind} topic ${pattern} cannot be under flotilla/ or a $ topic`);
  return levels;
}

/** Checks and compiles rules (from a config file or HubOptions); throws MappingError saying what is wrong. */
export function compileMappings(rules: unknown): CompiledRule[] {
  validRules ??= compileSchema<MqttMappingRule[]>(Type.Array(MqttMappingRule, { maxItems: 64 }));
  const checked = validRules(rules);
  if (!checked.ok) throw new MappingError(`MQTT mapping rules: ${checked.error.message}`);
  const names = new Set<string>();
  const compiled = checked.value.map((rule): CompiledRule => {
    if (names.has(rule.name)) throw new MappingError(`mapping ${rule.name} is defined twice`);
    names.add(rule.name);
    const topics: CompiledRule['topics'] = {};
    for (const [kind, pattern] of Object.entries(rule.topics) as [TopicKind, string][])
      topics[kind] = parsePattern(rule.name, kind, pattern);
    if (Object.keys(topics).length === 0) throw new MappingError(`mapping ${rule.name} maps no topic`);
    return { rule, devices: glob(rule.devices), topics };
  });
  // Two inbound patterns that read the same topic would make a publish ambiguous.
  const seen = new Map<string, string>();
  for (const { rule, topics } of compiled)
    for (const kind of INBOUND) {
      const levels = topics[kind];
      if (!levels) continue;
      const shape = levels.map((l) => ('literal' in l ? l.literal : '+')).join('/');
      const other = seen.get(shape);
      if (other) throw new MappingError(`mapping ${rule.name}: its ${kind} topic reads the same topics as ${other}`);
      seen.set(shape, `${rule.name}'s ${kind} topic`);
    }
  return compiled;
}

/** The rule set that applies to `device` (the first whose `devices` matches), if any. */
export function ruleFor(rules: readonly CompiledRule[], device: string): CompiledRule | undefined {
  return rules.find((r) => r.devices.test(device));
}

/**
 * Which legacy device topic `topic` is, whoever publishes it: undefined when no rule reads it.
 * A topic whose `{device}` level is not a device id, or names a device outside the rule's
 * `devices`, is read by no rule.
 */
export function matchInbound(rules: readonly CompiledRule[], topic: string): MappedTopic | undefined {
  const parts = topic.split('/');
  for (const rule of rules)
    for (const kind of INBOUND) {
      const levels = rule.topics[kind];
      if (!levels || levels.length !== parts.length) continue;
      let device: string | undefined;
      let name: string | undefined;
      const fits = levels.every((level, i) => {
        const part = parts[i] as string;
        if ('literal' in level) return level.literal === part;
        if (part === '') return false;
        if (level.placeholder === 'device') device = part;
        else name = part;
        return true;
      });
      if (!fits || device === undefined || !isDeviceId(device) || !rule.devices.test(device)) continue;
      return name === undefined ? { device, kind, rule } : { device, kind, name, rule };
    }
  return undefined;
}

/** The topic the hub publishes to `device` for `kind` under `rule`, or undefined when the rule keeps the Flotilla one. */
export function outboundTopic(
  rule: CompiledRule | undefined,
  kind: 'command' | 'cancel',
  values: { device: string; capability?: string; command?: string },
): string | undefined {
  const levels = rule?.topics[kind];
  if (!levels) return undefined;
  return levels
    .map((l) => ('literal' in l ? l.literal : (values[l.placeholder as keyof typeof values] ?? '')))
    .join('/');
}

/**
 * May `device`, under `rule`, subscribe to `filter`? Only filters that match nothing but its own
 * mapped hub → device topics: the literal levels as in the pattern, its own id at `{device}`,
 * and a wildcard only where the pattern has `{capability}` or `{command}` (`#` from there on).
 */
export function mappedSubscribeAllowed(rule: CompiledRule | undefined, device: string, filter: string): boolean {
  if (!rule) return false;
  const parts = filter.split('/');
  return (['command', 'cancel'] as const).some((kind) => {
    const levels = rule.topics[kind];
    if (!levels) return false;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const level = levels[i];
      if (!level) return false;
      if ('literal' in level) {
        if (part !== level.literal) return false;
      } else if (level.placeholder === 'device') {
        if (part !== device) return false;
      } else if (part === '#') {
        return i === parts.length - 1;
      }
      // `+` or a literal where the pattern has {capability}/{command}: any such topic is the device's.
    }
    return parts.length === levels.length;
  });
}

/** Whether `topic` is one of `device`'s mapped hub → device topics (delivery is limited to those). */
export function isMappedOutbound(rule: CompiledRule | undefined, device: string, topic: string): boolean {
  return mappedSubscribeAllowed(rule, device, topic) && !/[+#]/.test(topic);
}

// ---- payloads ----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The reshaped payload (a Flotilla payload, as JSON text), or the reason it cannot be. */
export type Adapted = { payload: Buffer } | { error: string };

function parse(payload: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(payload.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}

function flatten(value: Json, prefix: string, into: Json, ignore: ReadonlySet<string>, deep: boolean): void {
  for (const [key, field] of Object.entries(value)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (ignore.has(name)) continue;
    if (deep && isObject(field)) flatten(field, name, into, ignore, deep);
    else into[name] = typeof field === 'boolean' ? (field ? 1 : 0) : field;
  }
}

function timestamp(value: unknown, unit: 'ms' | 's' | 'iso'): number | undefined {
  if (unit === 'iso') {
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return unit === 's' ? Math.round(value * 1000) : value;
}

/**
 * A legacy publish reshaped into the payload the Flotilla topic of its kind takes, which then
 * goes through the same decoding and validation (decode.ts). A payload that is not JSON is left
 * as it is, so it is refused there (`bad_json`) like any other.
 */
export function adaptInbound(topic: MappedTopic, payload: Buffer): Adapted {
  const { rule } = topic.rule;
  if (topic.kind !== 'telemetry' && topic.kind !== 'status' && topic.kind !== 'result') return { payload };
  const parsed = parse(payload);
  if (!parsed || !isObject(parsed.value)) return { payload };
  const value = parsed.value;
  switch (topic.kind) {
    case 'telemetry': {
      if (topic.name !== undefined) return { payload };
      const options = rule.telemetry ?? {};
      const tsField = options.timestamp ?? 'ts';
      const ignore = new Set([...(options.ignore ?? []), tsField]);
      const metrics: Json = {};
      flatten(value, '', metrics, ignore, options.flatten ?? true);
      const out: Json = { metrics };
      if (value[tsField] !== undefined) {
        const ts = timestamp(value[tsField], options.timestampUnit ?? 'ms');
        if (ts === undefined) return { error: `${tsField} is not a ${options.timestampUnit ?? 'ms'} timestamp` };
        out['ts'] = ts;
      }
      return { payload: Buffer.from(JSON.stringify(out)) };
    }
    case 'status': {
      const field = rule.status?.field ?? 'state';
      const { [field]: state, ...rest } = value;
      return { payload: Buffer.from(JSON.stringify(state === undefined ? rest : { ...rest, state })) };
    }
    case 'result': {
      const shape = rule.result ?? {};
      const pick = (name: 'id' | 'status' | 'result' | 'error'): unknown => value[shape[name] ?? name];
      const status = pick('status');
      const out: Json = {
        id: pick('id'),
        status: typeof status === 'string' ? (shape.statusValues?.[status] ?? status) : status,
      };
      if (pick('result') !== undefined) out['result'] = pick('result');
      const error = pick('error');
      if (error !== undefined)
        out['error'] = typeof error === 'string' ? { code: 'device_error', message: error } : error;
      return { payload: Buffer.from(JSON.stringify(out)) };
    }
  }
}

function fill(template: unknown, values: Json): unknown {
  if (typeof template === 'string') {
    const whole = /^\{([A-Za-z]+)\}$/.exec(template);
    if (whole) return values[whole[1] as string];
    return template.replace(/\{([A-Za-z]+)\}/g, (text, key: string) => {
      const value = values[key];
      return value === undefined ? text : typeof value === 'string' ? value : JSON.stringify(value);
    });
  }
  if (Array.isArray(template)) return template.map((item) => fill(item, values));
  if (isObject(template)) {
    const out: Json = {};
    for (const [key, item] of Object.entries(template)) {
      const filled = fill(item, values);
      if (filled !== undefined) out[key] = filled;
    }
    return out;
  }
  return template;
}

/** The hub → device payload under `rule`: the rule's template filled in, or the Flotilla payload itself. */
export function adaptOutbound(
  rule: CompiledRule | undefined,
  kind: 'command' | 'cancel',
  device: string,
  payload: Json,
): string {
  const template = rule?.rule[kind]?.template;
  if (template === undefined) return JSON.stringify(payload);
  return JSON.stringify(fill(template, { ...payload, device }));
}
