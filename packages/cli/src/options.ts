import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { Env } from './io.js';
import * as v from './values.js';

/**
 * Command options as data. One table per command gives the parser (node:util parseArgs,
 * strict), the environment fallbacks, the `--help` text and the docs, so they cannot disagree.
 * Keys are camelCase; the flag is the kebab-case form (`mqttPort` → `--mqtt-port`).
 */
export interface OptionSpec<T> {
  readonly kind: 'string' | 'boolean' | 'list';
  readonly short?: string;
  /** Placeholder of the value in help (`N`, `DIR`, `URL`). */
  readonly valueName?: string;
  readonly description: string;
  /** Environment variables consulted when the flag is absent, first set one wins. */
  readonly env?: readonly string[];
  /** Value when neither flag nor environment gives one. */
  readonly default: T;
  /** The default as help shows it, when `String(default)` would not say it well. */
  readonly defaultText?: string;
  /** Turns one raw value (flag or environment) into the typed value; throws UsageError. */
  readonly parse: (raw: string, source: string) => unknown;
}

export type OptionTable = Readonly<Record<string, OptionSpec<unknown>>>;
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends OptionSpec<infer V> ? V : never;
};
export type ValueSource = 'flag' | 'env' | 'default';

interface Common {
  description: string;
  short?: string;
  valueName?: string;
  env?: readonly string[];
  defaultText?: string;
}

/** A single-valued option; without `default` its value may be undefined. */
export function option<T, D extends T | undefined = undefined>(
  parse: (raw: string, source: string) => T,
  init: Common & { default?: D },
): OptionSpec<T | D> {
  return { kind: 'string', valueName: 'VALUE', ...init, default: init.default as D, parse };
}

export function flag(init: Common): OptionSpec<boolean> {
  return { kind: 'boolean', ...init, default: false, parse: v.boolean };
}

/** A repeatable option; every occurrence is parsed. */
export function list<T>(parse: (raw: string, source: string) => T, init: Common): OptionSpec<T[]> {
  return { kind: 'list', valueName: 'VALUE', ...init, default: [], parse };
}

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export interface Parsed<T extends OptionTable> {
  values: OptionValues<T>;
  /** Where each value came from (the hub reports reserved flags only when they were set). */
  sources: Record<keyof T, ValueSource>;
  positionals: string[];
  help: boolean;
}

/** Node's parseArgs messages, made into one short line. */
function usageFromParseArgs(err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const name = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${name}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? '')}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return new UsageError(`${name} takes no value`);
      if (message.includes('ambiguous'))
        return new UsageError(`${name} needs a value (write ${name}=VALUE for a value starting with '-')`);
      return new UsageError(`${name} needs a value`);
    default:
      return new UsageError(message.split('\n')[0] ?? 'invalid arguments');
  }
}

/**
 * Parses `argv` against a table: flags first, then the environment, then defaults. Unknown
 * flags, missing values and bad values throw UsageError. `maxPositionals` (default 0) bounds
 * the arguments that are not options.
 */
export function parseOptions<T extends OptionTable>(
  table: T,
  argv: readonly string[],
  env: Env,
  maxPositionals = 0,
): Parsed<T> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [key, spec] of Object.entries(table)) {
    config[flagName(key)] = {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.kind === 'list' ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (err) {
    throw usageFromParseArgs(err);
  }
  const help = parsed.values['help'] === true;
  if (help)
    return {
      values: {} as OptionValues<T>,
      sources: {} as Record<keyof T, ValueSource>,
      positionals: parsed.positionals,
      help,
    };
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);

  const values: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const [key, spec] of Object.entries(table)) {
    const name = `--${flagName(key)}`;
    const raw = parsed.values[flagName(key)];
    if (raw !== undefined) {
      sources[key] = 'flag';
      if (spec.kind === 'boolean') values[key] = raw;
      else if (spec.kind === 'list') values[key] = (raw as string[]).map((r) => spec.parse(r, name));
      else values[key] = spec.parse(raw as string, name);
      continue;
    }
    // An empty variable counts as unset: `FLOTILLA_PORT= npm start` should not be an error.
    const envName = spec.env?.find((n) => env[n] !== undefined && env[n] !== '');
    if (envName !== undefined) {
      sources[key] = 'env';
      const text = env[envName] as string;
      values[key] = spec.kind === 'list' ? [spec.parse(text, envName)] : spec.parse(text, envName);
      continue;
    }
    sources[key] = 'default';
    values[key] = spec.default;
  }
  return {
    values: values as OptionValues<T>,
    sources: sources as Record<keyof T, ValueSource>,
    positionals: parsed.positionals,
    help,
  };
}

// ---- help and docs ---------------------------------------------------------------------------

function flagLabel(key: string, spec: OptionSpec<unknown>): string {
  const long = `--${flagName(key)}${spec.kind === 'boolean' ? '' : ` ${spec.valueName ?? 'VALUE'}`}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

function defaultLabel(spec: OptionSpec<unknown>): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (
    spec.default === undefined ||
    spec.default === false ||
    (Array.isArray(spec.default) && spec.default.length === 0)
  )
    return undefined;
  return String(spec.default);
}

export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The options section of `--help`: flag, description, then default and environment. */
export function renderOptions(table: OptionTable, width = 80): string {
  const rows = Object.entries(table).map(([key, spec]) => {
    const extra = [
      defaultLabel(spec) === undefined ? '' : `default: ${defaultLabel(spec)}`,
      spec.env?.length ? `env: ${spec.env.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return { label: flagLabel(key, spec), text: extra ? `${spec.description} (${extra})` : spec.description };
  });
  rows.push({ label: '-h, --help', text: 'show this help' });
  const labelWidth = Math.min(30, Math.max(...rows.map((r) => r.label.length)) + 2);
  const out: string[] = [];
  for (const { label, text } of rows) {
    const lines = wrap(text, Math.max(30, width - labelWidth - 2));
    if (label.length + 2 > labelWidth) {
      // a label too long for the column gets a line of its own
      out.push(`  ${label}`);
      for (const l of lines) out.push(`  ${' '.repeat(labelWidth)}${l}`);
    } else {
      lines.forEach((l, i) => out.push(`  ${(i === 0 ? label : '').padEnd(labelWidth)}${l}`));
    }
  }
  return out.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A markdown table of the options: flag, environment, default, description. */
export function renderMarkdownTable(table: OptionTable): string {
  const lines = ['| Flag | Environment | Default | Description |', '|---|---|---|---|'];
  for (const [key, spec] of Object.entries(table)) {
    const flagText = `\`--${flagName(key)}${spec.kind === 'boolean' ? '' : ` ${spec.valueName ?? 'VALUE'}`}\``;
    const env = spec.env?.length ? spec.env.map((e) => `\`${e}\``).join(', ') : '';
    const def = defaultLabel(spec);
    lines.push(`| ${flagText} | ${env} | ${def === undefined ? '' : `\`${cell(def)}\``} | ${cell(spec.description)} |`);
  }
  return lines.join('\n');
}
