import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { compileSchema, systemClock, type Clock } from '@flotilla/protocol';
import { AgentError, AgentErrorCodes } from '../errors.js';
import type { Driver } from './driver.js';
import { MAX_SHELL_OUTPUT_BYTES, shellDriver } from './shell.js';

const NAME = '^[a-z][a-z0-9_.-]{0,127}$';

const ShellCommand = Type.Object(
  {
    argv: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 256 }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 3_600_000 })),
    maxOutputBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SHELL_OUTPUT_BYTES })),
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
    maxArgs: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
  },
  { additionalProperties: false },
);

const ShellDriverConfig = Type.Object(
  {
    driver: Type.Literal('shell'),
    capability: Type.Optional(Type.String({ pattern: NAME })),
    commands: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' }), ShellCommand, {
      minProperties: 1,
    }),
  },
  { additionalProperties: false },
);

/** The agent configuration file (`--config`): the drivers to load. docs/drivers.md. */
export const AgentConfigSchema = Type.Object(
  { drivers: Type.Array(ShellDriverConfig, { maxItems: 64 }) },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigSchema>;

const validate = compileSchema<AgentConfig>(AgentConfigSchema);

function invalid(file: string, message: string, cause?: unknown): AgentError {
  return new AgentError(AgentErrorCodes.INVALID_CONFIG, `config ${file}: ${message}`, { cause });
}

/** Reads and checks `--config FILE`; throws AgentError `invalid_config` with one line saying what is wrong. */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(file, `not JSON: ${(err as Error).message}`, err);
  }
  const drivers = (value as { drivers?: unknown } | null)?.drivers;
  if (Array.isArray(drivers)) {
    // Name the unknown driver plainly instead of a schema error about a literal.
    const unknown = drivers.find((d) => (d as { driver?: unknown } | null)?.driver !== 'shell');
    if (unknown !== undefined)
      throw invalid(
        file,
        `unknown driver ${JSON.stringify((unknown as { driver?: unknown })?.driver)} (built in: shell)`,
      );
  }
  const checked = validate(value);
  if (!checked.ok) throw invalid(file, checked.error.message);
  return checked.value;
}

/** The drivers a configuration names. */
export function configuredDrivers(config: AgentConfig, clock: Clock = systemClock): Driver[] {
  return config.drivers.map((d) => shellDriver(d, clock));
}
