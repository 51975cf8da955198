/**
 * Device log settings a hub is started with (`HubOptions.logs`). Every field is optional;
 * docs/logs.md explains each. Times in ms.
 */
export interface LogSettings {
  /** Lines are kept this long, by their `ts` (default 7 days). */
  retentionMs?: number;
  /** Largest `fields` object of one line, as JSON (default 8 KiB). */
  maxFieldsBytes?: number;
  /** Lines waiting to be written at most; past it lines are refused `overloaded` (default 20,000). */
  maxQueuedLines?: number;
  /** How far ahead of the hub's clock a line's `ts` may be (default 5 min). */
  maxFutureMs?: number;
}

export type ResolvedLogSettings = Required<LogSettings>;

const DAY_MS = 86_400_000;

export const LOG_DEFAULTS = {
  retentionMs: 7 * DAY_MS,
  maxFieldsBytes: 8 * 1024,
  maxQueuedLines: 20_000,
  maxFutureMs: 5 * 60_000,
} as const;

/** Applies the defaults; throws a RangeError naming the first setting out of range. */
export function resolveLogSettings(settings: LogSettings = {}): ResolvedLogSettings {
  const get = (name: keyof LogSettings, fallback: number, min: number, max: number): number => {
    const value = settings[name] ?? fallback;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`logs ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
    return value;
  };
  return {
    retentionMs: get('retentionMs', LOG_DEFAULTS.retentionMs, 60_000, 3650 * DAY_MS),
    maxFieldsBytes: get('maxFieldsBytes', LOG_DEFAULTS.maxFieldsBytes, 0, 1024 * 1024),
    maxQueuedLines: get('maxQueuedLines', LOG_DEFAULTS.maxQueuedLines, 1, 10_000_000),
    maxFutureMs: get('maxFutureMs', LOG_DEFAULTS.maxFutureMs, 0, DAY_MS),
  };
}
