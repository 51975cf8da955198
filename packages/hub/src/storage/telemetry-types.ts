/**
 * What the telemetry tables (migrations 0006, 0011) store and answer, as the telemetry module sees it.
 * Times are epoch ms. Everything here is already validated: the store trusts it.
 */

/**
 * How raw points are laid out: on PostgreSQL, `telemetry_values` (migration 0011) as day
 * partitions or a TimescaleDB hypertable (decided once, by migration 0006); on SQLite, one row
 * per message in `telemetry_frames` (migration 0016, storage/telemetry-frames.ts).
 */
export type TelemetryLayout = 'frames' | 'partitioned' | 'timescale';

export interface TelemetryPoint {
  metric: string;
  value: number;
}

export interface TelemetrySample {
  name: string;
  /** The sample as JSON text. */
  data: string;
}

/** One agent message's worth of telemetry, all at `ts`. */
export interface TelemetryWrite {
  device: string;
  /** The agent's message number; with one, a second write of (device, seq) is a duplicate. */
  seq: number | undefined;
  ts: number;
  points: readonly TelemetryPoint[];
  samples: readonly TelemetrySample[];
}

/** `duplicate`: (device, seq) was stored before (or earlier in the same batch); nothing written. */
export type WriteOutcome = 'stored' | 'duplicate';

/** Where an aggregate is computed from. */
export type TelemetrySource = 'raw' | 'rollup_1m' | 'rollup_1h';

export interface AggregateQuery {
  devices: readonly string[];
  metric: string;
  /** Inclusive; a multiple of `bucketMs` when the source is a rollup. */
  from: number;
  /** Exclusive. */
  to: number;
  bucketMs: number;
  source: TelemetrySource;
}

/** One device's aggregate of one bucket. `sum / count` is the average. */
export interface AggregateRow {
  device: string;
  bucket: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  /** Time of the newest point in the bucket, and its value (`last`). */
  lastTs: number;
  last: number;
}

/** Points per device over [from, to), every metric, counted from a rollup table. */
export interface VolumeQuery {
  devices: readonly string[];
  /** Inclusive; a bucket start of `source`. */
  from: number;
  /** Exclusive. */
  to: number;
  source: Exclude<TelemetrySource, 'raw'>;
}

export interface RawQuery {
  device: string;
  metric: string;
  from: number;
  to: number;
  limit: number;
}

export interface TimedValue {
  ts: number;
  value: number;
}

export interface LatestValue extends TimedValue {
  metric: string;
}

export interface SampleQuery {
  device: string;
  name: string;
  from: number;
  to: number;
  limit: number;
}

export interface StoredSample {
  ts: number;
  data: unknown;
}

/**
 * Everything strictly older than these times is deleted. Samples follow raw points; dedup
 * records (`telemetry_seen`) have their own cutoff (see docs/telemetry.md, dedup).
 */
export interface RetentionCutoffs {
  raw: number;
  rollup1m: number;
  rollup1h: number;
  seen: number;
}

export interface RetentionResult {
  /** Raw points deleted row by row (whole dropped partitions or chunks are not counted). */
  points: number;
  /** PostgreSQL day partitions (or Timescale chunks) dropped whole. */
  partitions: number;
  rollups: number;
  /** Series catalogue rows deleted (nothing of them was left in any table). */
  series: number;
}
