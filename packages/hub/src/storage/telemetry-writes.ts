import type { EngineConnection } from './engine.js';
import { toStorageError } from './errors.js';
import { col, insertColumns, insertNumbers, kyselyRunner, pgRunner, type SqlRunner } from './telemetry-insert.js';
import { DAY_MS, type TelemetryPartitions } from './telemetry-partitions.js';
import { encodeFrame } from './telemetry-frames.js';
import { SeriesIds, type SeriesPoint } from './telemetry-series.js';
import type { TelemetryLayout, TelemetryWrite, WriteOutcome } from './telemetry-types.js';

/** Rollups are kept per minute; the writer marks each (device, minute) it writes as dirty. */
export const MINUTE_MS = 60_000;

/** PostgreSQL: "no partition of relation found for row" (another hub's retention dropped it). */
const CHECK_VIOLATION = '23514';

const VALUES = [col('series_id', 'int8'), col('ts', 'int8'), col('value', 'float8')];
/** SQLite (layout `frames`): a message's points in one row (telemetry-frames.ts). */
const FRAMES = [col('device', 'text'), col('ts', 'int8'), col('data', 'bytea')];
const SAMPLES = [col('device', 'text'), col('name', 'text'), col('ts', 'int8'), col('data', 'json')];
const SEEN = [col('device', 'text'), col('seq', 'int8'), col('ts', 'int8')];
const DIRTY = [col('device', 'text'), col('bucket', 'int8'), col('version', 'int8')];

/**
 * Writes batches of telemetry in one transaction each: dedup records first (the ones already
 * there make their messages duplicates), then the series ids of the batch (telemetry-series.ts),
 * the points as (series_id, ts, value), samples, and the dirty minutes for the rollup job.
 */
export class TelemetryWriter {
  readonly #engine: EngineConnection;
  readonly #partitions: TelemetryPartitions;
  readonly #series = new SeriesIds();

  constructor(engine: EngineConnection, partitions: TelemetryPartitions) {
    this.#engine = engine;
    this.#partitions = partitions;
  }

  /** Retention pruned series rows: cached ids may be gone. */
  forgetSeries(): void {
    this.#series.clear();
  }

  async write(items: readonly TelemetryWrite[], layout: TelemetryLayout): Promise<WriteOutcome[]> {
    if (items.length === 0) return [];
    try {
      return await this.#writeOnce(items, layout);
    } catch (error) {
      if (layout !== 'partitioned' || !isCode(error, CHECK_VIOLATION)) throw toStorageError('writing telemetry', error);
      this.#partitions.forget();
      try {
        return await this.#writeOnce(items, layout);
      } catch (again) {
        throw toStorageError('writing telemetry', again);
      }
    }
  }

  async #writeOnce(items: readonly TelemetryWrite[], layout: TelemetryLayout): Promise<WriteOutcome[]> {
    if (layout === 'partitioned') await this.#partitions.ensure(days(items));
    const { outcomes, refreshed } = await this.#transaction(async (runner) => {
      const outcomes = await this.#dedup(runner, items);
      // Ids from the cache, in one pass; the series it cannot answer for are collected (device →
      // metric → newest point of the batch), upserted, and their points' ids filled in after.
      const stale = new Map<string, Map<string, SeriesPoint>>();
      const samples: unknown[][] = [[], [], [], []];
      const dirty = new Map<string, Set<number>>();
      const ids: number[] = [];
      const values: number[] = [];
      const unresolved: { at: number; point: SeriesPoint }[] = [];
      items.forEach((item, i) => {
        if (outcomes[i] !== 'stored') return;
        const { device, ts } = item;
        if (item.points.length > 0) {
          const known = this.#series.device(device);
          for (const { metric, value } of item.points) {
            const id = SeriesIds.cachedId(known, metric, ts);
            if (id === undefined) unresolved.push({ at: ids.length, point: newest(stale, device, metric, ts, value) });
            ids.push(id ?? 0);
            values.push(value);
          }
          let minutes = dirty.get(device);
          if (minutes === undefined) dirty.set(device, (minutes = new Set()));
          minutes.add(ts - (ts % MINUTE_MS));
        }
        for (const { name, data } of item.samples) push(samples, device, name, ts, data);
      });
      const refreshed = await this.#series.resolve(runner, stale);
      for (const { at, point } of unresolved) ids[at] = point.id;
      await (layout === 'frames'
        ? insertFrames(runner, items, outcomes, ids, values)
        : insertPoints(runner, items, outcomes, ids, values));
      await insertColumns(runner, 'telemetry_samples', SAMPLES, samples);
      const minutes: unknown[][] = [[], [], []];
      for (const [device, buckets] of dirty) for (const bucket of buckets) push(minutes, device, bucket, 0);
      await insertColumns(
        runner,
        'telemetry_dirty',
        DIRTY,
        minutes,
        'on conflict (device, bucket) do update set version = telemetry_dirty.version + 1',
      );
      return { outcomes, refreshed };
    });
    // Only once committed: a rolled-back row must be written again next time.
    this.#series.remember(refreshed);
    return outcomes;
  }

  /** One transaction: on a pg client of its own on PostgreSQL (for COPY), else through Kysely. */
  #transaction<T>(work: (runner: SqlRunner) => Promise<T>): Promise<T> {
    const engine = this.#engine;
    if (engine.clientTransaction) return engine.clientTransaction((client) => work(pgRunner(client)));
    return engine.db.transaction().execute((trx) => work(kyselyRunner(engine.engine, trx)));
  }

  /** Records each numbered message; those whose (device, seq) is already recorded are duplicates. */
  async #dedup(runner: SqlRunner, items: readonly TelemetryWrite[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = items.map(() => 'stored');
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      if (item.seq === undefined) return;
      const key = `${item.device}\u0000${item.seq}`;
      if (first.has(key)) outcomes[i] = 'duplicate';
      else first.set(key, i);
    });
    if (first.size === 0) return outcomes;
    const rows: unknown[][] = [[], [], []];
    for (const i of first.values()) {
      const item = items[i] as TelemetryWrite;
      push(rows, item.device, item.seq, item.ts);
    }
    const inserted = await insertColumns(
      runner,
      'telemetry_seen',
      SEEN,
      rows,
      'on conflict do nothing returning device, seq',
    );
    // Every record new (the usual case): no duplicates to find.
    if (inserted.length === first.size) return outcomes;
    const fresh = new Set(inserted.map((row) => `${String(row['device'])}\u0000${Number(row['seq'])}`));
    for (const [key, i] of first) if (!fresh.has(key)) outcomes[i] = 'duplicate';
    return outcomes;
  }
}

/** One row per stored message with points: its points packed, in the order `ids`/`values` hold them. */
async function insertFrames(
  runner: SqlRunner,
  items: readonly TelemetryWrite[],
  outcomes: readonly WriteOutcome[],
  ids: readonly number[],
  values: readonly number[],
): Promise<void> {
  const frames: unknown[][] = [[], [], []];
  let p = 0;
  items.forEach((item, i) => {
    if (outcomes[i] !== 'stored' || item.points.length === 0) return;
    const start = p;
    p += item.points.length;
    push(frames, item.device, item.ts, encodeFrame(ids, values, start, p));
  });
  await insertColumns(runner, 'telemetry_frames', FRAMES, frames);
}

/** One row per point, `(series_id, ts, value)`: COPY on PostgreSQL. */
async function insertPoints(
  runner: SqlRunner,
  items: readonly TelemetryWrite[],
  outcomes: readonly WriteOutcome[],
  ids: readonly number[],
  values: readonly number[],
): Promise<void> {
  const times = new Array<number>(ids.length);
  let p = 0;
  items.forEach((item, i) => {
    if (outcomes[i] !== 'stored') return;
    for (let k = 0; k < item.points.length; k++) times[p++] = item.ts;
  });
  await insertNumbers(runner, 'telemetry_values', VALUES, [ids, times, values]);
}

/** The batch's entry for a series (its newest point so far), made or moved forward. */
function newest(
  batch: Map<string, Map<string, SeriesPoint>>,
  device: string,
  metric: string,
  ts: number,
  value: number,
): SeriesPoint {
  let points = batch.get(device);
  if (points === undefined) batch.set(device, (points = new Map()));
  let point = points.get(metric);
  if (point === undefined) points.set(metric, (point = { metric, ts, value, id: 0 }));
  else if (ts >= point.ts) {
    point.ts = ts;
    point.value = value;
  }
  return point;
}

function push(target: unknown[][], ...row: unknown[]): void {
  row.forEach((value, i) => target[i]?.push(value));
}

/** Days (since the epoch) that the batch's points fall on. */
function days(items: readonly TelemetryWrite[]): Set<number> {
  const out = new Set<number>();
  for (const item of items) if (item.points.length > 0) out.add(Math.floor(item.ts / DAY_MS));
  return out;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
