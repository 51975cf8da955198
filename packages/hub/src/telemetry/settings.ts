/**
 * Telemetry settings a hub is started with (`HubOptions.telemetry`). Every field is optional;
 * docs/telemetry.md explains each. Times in ms.
 */
export interface TelemetrySettings {
  /** Raw points and samples are kept this long (default 7 days). */
  rawRetentionMs?: number;
  /** One-minute rollups are kept this long (default 90 days). */
  rollup1mRetentionMs?: number;
  /** One-hour rollups are kept this long (default 2 years). */
  rollup1hRetentionMs?: number;
  /** How often the rollup and retention job runs (default 30 s). */
  maintenanceIntervalMs?: number;
  /** How far ahead of the hub's clock a message's `ts` may be (default 5 min). */
  maxFutureMs?: number;
  /** How far behind the hub's clock a message's `ts` may be (default: the raw retention). */
  maxPastMs?: number;
  /** Queue size (points + samples) at which transports are asked to pause (default 100,000). */
  highWaterPoints?: number;
}

export type ResolvedTelemetrySettings = Required<TelemetrySettings>;

const DAY_MS = 86_400_000;

export const TELEMETRY_DEFAULTS = {
  rawRetentionMs: 7 * DAY_MS,
  rollup1mRetentionMs: 90 * DAY_MS,
  rollup1hRetentionMs: 730 * DAY_MS,
  maintenanceIntervalMs: 30_000,
  maxFutureMs: 5 * 60_000,
  highWaterPoints: 100_000,
} as const;

/** Applies the defaults; throws a RangeError naming the first setting out of range. */
export function resolveTelemetrySettings(settings: TelemetrySettings = {}): ResolvedTelemetrySettings {
  const get = (name: keyof TelemetrySettings, fallback: number, min: number, max: number): number => {
    const value = settings[name] ?? fallback;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`telemetry ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
    return value;
  };
  const rawRetentionMs = get('rawRetentionMs', TELEMETRY_DEFAULTS.rawRetentionMs, 60_000, 3650 * DAY_MS);
  return {
    rawRetentionMs,
    rollup1mRetentionMs: get('rollup1mRetentionMs', TELEMETRY_DEFAULTS.rollup1mRetentionMs, 60_000, 3650 * DAY_MS),
    rollup1hRetentionMs: get('rollup1hRetentionMs', TELEMETRY_DEFAULTS.rollup1hRetentionMs, 3_600_000, 3650 * DAY_MS),
    maintenanceIntervalMs: get('maintenanceIntervalMs', TELEMETRY_DEFAULTS.maintenanceIntervalMs, 100, DAY_MS),
    maxFutureMs: get('maxFutureMs', TELEMETRY_DEFAULTS.maxFutureMs, 0, DAY_MS),
    // Older than the raw retention would be deleted at the next pass: refuse it instead.
    maxPastMs: get('maxPastMs', rawRetentionMs, 0, rawRetentionMs),
    highWaterPoints: get('highWaterPoints', TELEMETRY_DEFAULTS.highWaterPoints, 2, 100_000_000),
  };
}
