import type { AggregateRow, TelemetrySource } from '../storage/telemetry-types.js';

/**
 * How a telemetry query is answered: bucket syntax, which table serves it, and how per-device,
 * per-bucket aggregates merge into one series. The rule (docs/telemetry.md, queries):
 * - no bucket: raw points;
 * - a bucket that is a whole number of hours: the 1 h rollups;
 * - a bucket that is a whole number of minutes: the 1 min rollups;
 * - any other bucket (under a minute, or 90 s): raw points, aggregated when read.
 * Aggregated ranges are widened to whole buckets (epoch-aligned), so a rollup bucket is never cut.
 */

export const AGGREGATES = ['avg', 'min', 'max', 'last', 'count'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** Buckets one answer may hold. */
export const MAX_BUCKETS = 10_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS, d: 24 * HOUR_MS };
export const BUCKET_PATTERN = '^[1-9][0-9]{0,9}(ms|s|m|h|d)$';

/** `10s`, `5m`, `1h`, `1d`… in ms; undefined when malformed or under a second. */
export function parseBucket(text: string): number | undefined {
  const match = /^([1-9]\d{0,9})(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  return ms >= 1000 && Number.isSafeInteger(ms) ? ms : undefined;
}

export function sourceFor(bucketMs: number): TelemetrySource {
  if (bucketMs % HOUR_MS === 0) return 'rollup_1h';
  if (bucketMs % MINUTE_MS === 0) return 'rollup_1m';
  return 'raw';
}

/** [from, to) widened to whole buckets. */
export function alignRange(from: number, to: number, bucketMs: number): { from: number; to: number } {
  return { from: Math.floor(from / bucketMs) * bucketMs, to: Math.ceil(to / bucketMs) * bucketMs };
}

export interface BucketValue {
  /** Start of the bucket. */
  ts: number;
  value: number;
  /** Devices with points in the bucket. */
  devices: number;
}

/**
 * Merges per-device rows into one value per bucket: min of mins, max of maxes, sum of sums over
 * sum of counts (so a fleet average weighs every point alike), and the last value of the device
 * whose newest point is newest (ties: the larger value, as the SQL does).
 */
export function mergeBuckets(rows: readonly AggregateRow[], agg: Aggregate): BucketValue[] {
  const merged = new Map<number, AggregateRow & { devices: number }>();
  for (const row of rows) {
    const into = merged.get(row.bucket);
    if (!into) {
      merged.set(row.bucket, { ...row, devices: 1 });
      continue;
    }
    into.min = Math.min(into.min, row.min);
    into.max = Math.max(into.max, row.max);
    into.sum += row.sum;
    into.count += row.count;
    into.devices++;
    if (row.lastTs > into.lastTs || (row.lastTs === into.lastTs && row.last > into.last)) {
      into.lastTs = row.lastTs;
      into.last = row.last;
    }
  }
  return [...merged.values()]
    .sort((a, b) => a.bucket - b.bucket)
    .map((b) => ({ ts: b.bucket, value: pick(b, agg), devices: b.devices }));
}

function pick(row: AggregateRow, agg: Aggregate): number {
  switch (agg) {
    case 'avg':
      return row.sum / row.count;
    case 'min':
      return row.min;
    case 'max':
      return row.max;
    case 'last':
      return row.last;
    case 'count':
      return row.count;
  }
}
