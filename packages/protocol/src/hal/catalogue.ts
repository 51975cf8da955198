import type { ValidateFunction } from 'ajv';
import type { Capability } from '../device.js';
import { formatAjvError, protocolAjv } from '../validate.js';
import { capabilityDocument, halMajor, type CapabilityDocument, type CapabilitySpec } from './spec.js';
import type { CommandForm, Upcaster } from './upcast.js';
import { HAL_V1 } from './v1.js';
import { HAL_V2, V1_TO_V2 } from './v2.js';

/** Every HAL capability this protocol version knows, v1 first. */
export const HAL_CAPABILITIES: readonly CapabilitySpec[] = [...HAL_V1, ...HAL_V2];
const UPCASTERS: readonly Upcaster[] = [...V1_TO_V2];

const byName = new Map(HAL_CAPABILITIES.map((c) => [c.name, c]));

export function halCapability(name: string): CapabilitySpec | undefined {
  return byName.get(name);
}

let documents: readonly CapabilityDocument[] | undefined;
/** Every capability as JSON, as `GET /api/v1/schemas` serves it (built once). */
export function halDocuments(): readonly CapabilityDocument[] {
  return (documents ??= HAL_CAPABILITIES.map(capabilityDocument));
}

export const HalErrorCodes = {
  /** The capability is not in the HAL catalogue. */
  UNKNOWN_CAPABILITY: 'unknown_capability',
  /** The capability has no command of that name. */
  UNKNOWN_COMMAND: 'unknown_command',
  /** The arguments fail the command's schema (the message says where). */
  BAD_ARGS: 'bad_args',
  /** The device declared neither the capability nor a newer version it can be upcast to. */
  CAPABILITY_NOT_DECLARED: 'capability_not_declared',
} as const;
export type HalErrorCode = (typeof HalErrorCodes)[keyof typeof HalErrorCodes];

export type HalResult<T> = { ok: true; value: T } | { ok: false; error: { code: HalErrorCode; message: string } };

/** A command ready to send: where it goes and in which form. */
export interface ResolvedCommand extends CommandForm {
  capability: string;
  priority: 'critical' | 'normal';
}

// Compiled on first use: a hub validates a handful of commands, not all ~40, in most runs.
const validators = new Map<string, ValidateFunction>();
function argsValidator(spec: CapabilitySpec, command: string): ValidateFunction | undefined {
  const key = `${spec.name}#${command}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema = spec.commands[command]?.args;
    if (!schema) return undefined;
    validate = protocolAjv.compile(schema);
    validators.set(key, validate);
  }
  return validate;
}

/** Checks a command against the catalogue: the capability and command exist, the args fit. */
export function validateCommand(capability: string, command: string, args: unknown): HalResult<ResolvedCommand> {
  const spec = byName.get(capability);
  if (!spec) {
    return {
      ok: false,
      error: {
        code: HalErrorCodes.UNKNOWN_CAPABILITY,
        message: `no HAL capability ${capability} (see /api/v1/schemas)`,
      },
    };
  }
  const validate = argsValidator(spec, command);
  if (!validate) {
    const known = Object.keys(spec.commands);
    return {
      ok: false,
      error: {
        code: HalErrorCodes.UNKNOWN_COMMAND,
        message: `${capability} has no command ${command}${known.length > 0 ? ` (it has ${known.join(', ')})` : ' (it has none)'}`,
      },
    };
  }
  if (!validate(args)) {
    return {
      ok: false,
      error: {
        code: HalErrorCodes.BAD_ARGS,
        message: `${capability} ${command}: args ${formatAjvError(validate.errors)}`,
      },
    };
  }
  return {
    ok: true,
    value: {
      capability,
      command,
      args: args as Record<string, unknown>,
      priority: spec.commands[command]?.priority ?? 'normal',
    },
  };
}

/** Same capability family (`hal.v1.led` and `hal.v2.led` are both `led`). */
function family(name: string): string {
  return name.replace(/^hal\.v[0-9]+\./, '');
}

/**
 * The command in the form a device understands: as written when the device declared that
 * capability, else upcast to the newest version of it the device declared. The request is
 * validated first, and the upcast result again against the target's schema.
 */
export function resolveCommand(
  request: { capability: string; command: string; args: unknown },
  declared: readonly Capability[],
): HalResult<ResolvedCommand> {
  if (!byName.has(request.capability)) return validateCommand(request.capability, request.command, request.args);
  const names = new Set(declared.map((c) => c.name));
  const major = halMajor(request.capability) ?? 0;
  const newer = [...names]
    .filter((n) => family(n) === family(request.capability) && (halMajor(n) ?? 0) > major)
    .sort((a, b) => (halMajor(b) ?? 0) - (halMajor(a) ?? 0));
  // What the device lacks is the first thing to say: the arguments do not matter then.
  if (!names.has(request.capability) && newer.length === 0) {
    return {
      ok: false,
      error: {
        code: HalErrorCodes.CAPABILITY_NOT_DECLARED,
        message: `the device did not declare ${request.capability}`,
      },
    };
  }
  const checked = validateCommand(request.capability, request.command, request.args);
  if (!checked.ok || names.has(request.capability)) return checked;
  for (const target of newer) {
    const form = upcast(checked.value, target);
    if (form) return validateCommand(target, form.command, form.args);
  }
  return {
    ok: false,
    error: {
      code: HalErrorCodes.CAPABILITY_NOT_DECLARED,
      message: `the device did not declare ${request.capability} (it has ${newer.join(', ')}, with no upcast for ${request.command})`,
    },
  };
}

/** Applies the chain of upcasters from the command's capability to `target`, if there is one. */
export function upcast(command: CommandForm & { capability: string }, target: string): CommandForm | undefined {
  let current: CommandForm & { capability: string } = command;
  while (current.capability !== target) {
    const step = UPCASTERS.find(
      (u) => u.from === current.capability && (halMajor(u.to) ?? 0) <= (halMajor(target) ?? 0),
    );
    const convert = step?.commands[current.command];
    if (!step || !convert) return undefined;
    current = { capability: step.to, ...convert(current.args) };
  }
  return { command: current.command, args: current.args };
}
