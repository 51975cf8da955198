import type { TObject, TSchema } from '@sinclair/typebox';

/**
 * The shape of a HAL capability: what a device that declares it accepts (commands with their
 * argument schemas) and what it reports (metrics with units, structured samples). The name
 * carries the major version (`hal.v1.led`, `hal.v2.led`): a breaking change is a new name. The
 * `version` is the minor/patch within that major, bumped for backward-compatible changes only
 * (hal.lock.json and its test enforce it).
 */
export interface MetricSpec {
  /** SI-style unit: `m/s`, `V`, `%`, `degC`, `deg`, `count`, `bool` (0 or 1)... */
  unit: string;
  description: string;
  minimum?: number;
  maximum?: number;
}

export interface CommandSpec {
  description: string;
  /** JSON Schema (TypeBox) of `args`; always an object, closed to unknown properties. */
  args: TObject;
  /** What a device returns on success. */
  result?: TSchema;
  /** `critical`: jumps every queue and is delivered first (emergency stop). */
  priority?: 'critical';
  /** Long-running: reports progress and can be cancelled (a job). */
  job?: boolean;
}

export interface CapabilitySpec {
  /** `hal.v<major>.<area>[.<kind>]`. */
  name: string;
  /** Semver; its major equals the name's. */
  version: string;
  title: string;
  description: string;
  commands: Readonly<Record<string, CommandSpec>>;
  metrics: Readonly<Record<string, MetricSpec>>;
  /** Structured samples (`telemetry.samples.<name>`), by name. */
  samples: Readonly<Record<string, TSchema>>;
}

/** A capability as JSON: what `GET /api/v1/schemas` serves and hal.lock.json records. */
export interface CapabilityDocument {
  name: string;
  version: string;
  title: string;
  description: string;
  commands: Record<
    string,
    { description: string; args: JsonSchema; result?: JsonSchema; priority?: 'critical'; job?: boolean }
  >;
  metrics: Record<string, MetricSpec>;
  samples: Record<string, JsonSchema>;
}

/** A JSON Schema as plain data. */
export type JsonSchema = { [key: string]: unknown };

export const HAL_NAME_PATTERN = /^hal\.v([1-9][0-9]*)\.[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/;

/** The major version in a HAL capability name, or undefined for a name outside the HAL. */
export function halMajor(name: string): number | undefined {
  const match = HAL_NAME_PATTERN.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Plain JSON of a TypeBox schema (its symbol-keyed bookkeeping dropped). */
export function jsonSchema(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

export function capabilityDocument(spec: CapabilitySpec): CapabilityDocument {
  const commands: CapabilityDocument['commands'] = {};
  for (const [name, c] of Object.entries(spec.commands)) {
    commands[name] = {
      description: c.description,
      args: jsonSchema(c.args),
      ...(c.result && { result: jsonSchema(c.result) }),
      ...(c.priority && { priority: c.priority }),
      ...(c.job && { job: true }),
    };
  }
  const samples: CapabilityDocument['samples'] = {};
  for (const [name, s] of Object.entries(spec.samples)) samples[name] = jsonSchema(s);
  return {
    name: spec.name,
    version: spec.version,
    title: spec.title,
    description: spec.description,
    commands,
    metrics: { ...spec.metrics },
    samples,
  };
}
