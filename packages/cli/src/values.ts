import { parseMdnsSetting, type MdnsSetting } from '@flotilla/discovery';
import { UsageError } from './errors.js';

/**
 * Parsers for option values. Each takes the raw text and where it came from (`--port` or
 * `FLOTILLA_PORT`), so the error names what the user actually typed.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: `1500` (bare number = ms), `500ms`, `30s`, `15m`, `1h`, `2d`, or a
 * sum such as `1h30m`. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const [, amount, , unit] of t.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(amount) * (UNITS[unit ?? ''] ?? NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

function quote(raw: string): string {
  return JSON.stringify(raw);
}

export function integer(raw: string, source: string, min: number, max: number): number {
  const t = raw.trim();
  const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${source} must be a whole number from ${min} to ${max}, got ${quote(raw)}`);
  }
  return n;
}

export function port(raw: string, source: string): number {
  const t = raw.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 0 && n <= 65535))
    throw new UsageError(`${source} must be a port number from 0 to 65535, got ${quote(raw)}`);
  return n;
}

/** A port, or `off` (false): for a listener that can be turned off. */
export function portOrOff(raw: string, source: string): number | false {
  if (raw.trim().toLowerCase() === 'off') return false;
  const t = raw.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 0 && n <= 65535))
    throw new UsageError(`${source} must be a port number from 0 to 65535, or off, got ${quote(raw)}`);
  return n;
}

export function number(raw: string, source: string, min: number, max: number): number {
  const t = raw.trim();
  const n = t === '' ? NaN : Number(t);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${source} must be a number from ${min} to ${max}, got ${quote(raw)}`);
  return n;
}

export function duration(raw: string, source: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(raw);
  if (ms === undefined)
    throw new UsageError(
      `${source} must be a duration such as 500ms, 30s, 5m or 1h (a bare number is ms), got ${quote(raw)}`,
    );
  if (ms < minMs || ms > maxMs)
    throw new UsageError(`${source} must be from ${formatMs(minMs)} to ${formatMs(maxMs)}, got ${quote(raw)}`);
  return ms;
}

export function choice<T extends string>(raw: string, source: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(raw))
    throw new UsageError(`${source} must be one of ${values.join(', ')}, got ${quote(raw)}`);
  return raw as T;
}

export function url(raw: string, source: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(
      `${source} must be a URL (${protocols.map((p) => `${p}//`).join(', ')}), got ${quote(redactUrl(raw))}`,
    );
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new UsageError(
      `${source} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got ${quote(redactUrl(raw))}`,
    );
  }
  return raw;
}

export function nonEmpty(raw: string, source: string): string {
  if (raw.trim() === '') throw new UsageError(`${source} must not be empty`);
  return raw;
}

/** Environment booleans: 1/true/yes/on and 0/false/no/off, in any case. */
export function boolean(raw: string, source: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new UsageError(`${source} must be true or false, got ${quote(raw)}`);
}

/**
 * `--since`: a duration back from now (`15m`, `1h`, `2d`) or an ISO 8601 date or time
 * (`2025-06-01`, `2025-06-01T12:00:00Z`). Bare numbers are refused: as milliseconds they would
 * be read as "a moment ago", as a timestamp as 1970.
 */
export function since(raw: string, source: string, now: number): Date {
  const t = raw.trim();
  if (!/^\d+$/.test(t)) {
    const ms = parseDuration(t);
    if (ms !== undefined) return new Date(now - ms);
    if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
      const at = Date.parse(t.replace(' ', 'T'));
      if (Number.isFinite(at)) return new Date(at);
    }
  }
  throw new UsageError(
    `${source} must be a duration back from now (15m, 1h, 2d) or an ISO date (2025-06-01T12:00:00Z), got ${quote(raw)}`,
  );
}

/** Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:***@host`). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}

export function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `--mdns`: `on`, `off`, or the IPv4 address of the one interface to use. */
export function mdns(raw: string, source: string): MdnsSetting {
  try {
    return parseMdnsSetting(raw);
  } catch (err) {
    throw new UsageError(`${source} ${(err as Error).message}`);
  }
}
