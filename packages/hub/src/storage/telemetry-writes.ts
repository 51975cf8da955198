import { setImmediate as nextTurn } from 'node:timers/promises';
import { CompiledQuery, type Transaction } from 'kysely';
import type { EngineConnection } from './engine.js';
import { toStorageError } from './errors.js';
import type { Database } from './schema.js';
import { DAY_MS, type TelemetryPartitions } from './telemetry-partitions.js';
import type { TelemetryLayout, TelemetryWrite, WriteOutcome } from './telemetry-types.js';

/** Rollups are kept per minute; the writer marks each (device, minute) it writes as dirty. */
export const MINUTE_MS = 60_000;

/** SQLite: bound parameters per INSERT (its limit is 32,766); ~500 four-column rows. */
const SQLITE_PARAMS_PER_STATEMENT = 2_000;

/**
 * `telemetry_latest` is the series catalogue (rollups and retention walk it); a series' row is
 * written when the series is new to this process, and then at most once per this much data time,
 * not at every point: upserting every series of every batch cost as much as the points themselves.
 */
export const SERIES_REFRESH_MS = 60_000;
/** Series remembered per process; past it the cache starts over (rows are only rewritten). */
const MAX_CACHED_SERIES = 1_000_000;

/** PostgreSQL: "no partition of relation found for row" (another hub's retention dropped it). */
const CHECK_VIOLATION = '23514';

interface Column {
  name: string;
  /** PostgreSQL array element type for UNNEST. */
  pg: 'text' | 'int8' | 'float8' | 'json';
}

const col = (name: string, pg: Column['pg']): Column => ({ name, pg });
const POINTS = [col('device', 'text'), col('metric', 'text'), col('ts', 'int8'), col('value', 'float8')];
const SAMPLES = [col('device', 'text'), col('name', 'text'), col('ts', 'int8'), col('data', 'json')];
const SEEN = [col('device', 'text'), col('seq', 'int8'), col('ts', 'int8')];
const LATEST = POINTS;
const DIRTY = [col('device', 'text'), col('bucket', 'int8'), col('version', 'int8')];

/**
 * Writes batches of telemetry in one transaction each: dedup records first (the ones already
 * there make their messages duplicates), then points, samples, the latest value per series and
 * the dirty minutes for the rollup job. PostgreSQL gets one `INSERT … SELECT FROM UNNEST` per
 * table whatever the batch size; SQLite gets prepared multi-row INSERTs, and the event loop gets
 * a turn between them (node:sqlite is synchronous), so sockets are read while a batch is written.
 */
export class TelemetryWriter {
  readonly #engine: EngineConnection;
  readonly #partitions: TelemetryPartitions;
  /** Series key → data time of the newest point this process wrote to `telemetry_latest`. */
  readonly #series = new Map<string, number>();

  constructor(engine: EngineConnection, partitions: TelemetryPartitions) {
    this.#engine = engine;
    this.#partitions = partitions;
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
    const { outcomes, latest } = await this.#engine.db.transaction().execute(async (trx) => {
      const outcomes = await this.#dedup(trx, items);
      const points: unknown[][] = [[], [], [], []];
      const samples: unknown[][] = [[], [], [], []];
      const latest = new Map<string, { device: string; metric: string; ts: number; value: number }>();
      const dirty = new Map<string, { device: string; bucket: number }>();
      items.forEach((item, i) => {
        if (outcomes[i] !== 'stored') return;
        const { device, ts } = item;
        for (const { metric, value } of item.points) {
          push(points, device, metric, ts, value);
          const key = `${device}\u0000${metric}`;
          const newest = latest.get(key);
          if (!newest || ts >= newest.ts) latest.set(key, { device, metric, ts, value });
        }
        for (const { name, data } of item.samples) push(samples, device, name, ts, data);
        if (item.points.length > 0) {
          const bucket = ts - (ts % MINUTE_MS);
          dirty.set(`${device}\u0000${bucket}`, { device, bucket });
        }
      });
      for (const [key, row] of latest) {
        const refreshed = this.#series.get(key);
        if (refreshed !== undefined && row.ts < refreshed + SERIES_REFRESH_MS) latest.delete(key);
      }
      await this.#insert(trx, 'telemetry_points', POINTS, points);
      await this.#insert(trx, 'telemetry_samples', SAMPLES, samples);
      await this.#insert(
        trx,
        'telemetry_latest',
        LATEST,
        columns([...latest.values()].map((l) => [l.device, l.metric, l.ts, l.value])),
        'on conflict (device, metric) do update set ts = excluded.ts, value = excluded.value ' +
          'where excluded.ts >= telemetry_latest.ts',
      );
      await this.#insert(
        trx,
        'telemetry_dirty',
        DIRTY,
        columns([...dirty.values()].map((d) => [d.device, d.bucket, 0])),
        'on conflict (device, bucket) do update set version = telemetry_dirty.version + 1',
      );
      return { outcomes, latest };
    });
    // Only once committed: a rolled-back row must be written again next time.
    if (this.#series.size + latest.size > MAX_CACHED_SERIES) this.#series.clear();
    for (const [key, row] of latest) this.#series.set(key, row.ts);
    return outcomes;
  }

  /** Records each numbered message; those whose (device, seq) is already recorded are duplicates. */
  async #dedup(trx: Transaction<Database>, items: readonly TelemetryWrite[]): Promise<WriteOutcome[]> {
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
    const inserted = await this.#insert(
      trx,
      'telemetry_seen',
      SEEN,
      rows,
      'on conflict do nothing returning device, seq',
    );
    const fresh = new Set(inserted.map((row) => `${String(row['device'])}\u0000${Number(row['seq'])}`));
    for (const [key, i] of first) if (!fresh.has(key)) outcomes[i] = 'duplicate';
    return outcomes;
  }

  /** Inserts column-major rows; returns what a RETURNING clause in `suffix` gave back. */
  async #insert(
    trx: Transaction<Database>,
    table: string,
    cols: readonly Column[],
    values: readonly unknown[][],
    suffix = '',
  ): Promise<Record<string, unknown>[]> {
    const count = values[0]?.length ?? 0;
    if (count === 0) return [];
    const names = cols.map((c) => c.name).join(', ');
    if (this.#engine.engine === 'postgres') {
      const unnest = cols.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
      const text = `insert into ${table} (${names}) select * from unnest(${unnest}) ${suffix}`;
      const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [...values]));
      return [...result.rows];
    }
    const returned: Record<string, unknown>[] = [];
    const perStatement = Math.floor(SQLITE_PARAMS_PER_STATEMENT / cols.length);
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    for (let start = 0; start < count; start += perStatement) {
      if (start > 0) await nextTurn();
      const end = Math.min(count, start + perStatement);
      const params: unknown[] = [];
      for (let r = start; r < end; r++) for (const column of values) params.push(column[r]);
      const text = `insert into ${table} (${names}) values ${rowsSql(tuple, end - start)} ${suffix}`;
      const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, params));
      returned.push(...result.rows);
    }
    return returned;
  }
}

const tuples = new Map<string, string>();

/** `(?, ?), (?, ?), …`, cached: batches repeat the same few shapes. */
function rowsSql(tuple: string, count: number): string {
  const key = `${tuple}${count}`;
  let text = tuples.get(key);
  if (text === undefined) {
    text = new Array<string>(count).fill(tuple).join(', ');
    if (tuples.size < 64) tuples.set(key, text);
  }
  return text;
}

function push(target: unknown[][], ...row: unknown[]): void {
  row.forEach((value, i) => target[i]?.push(value));
}

function columns(rows: readonly unknown[][]): unknown[][] {
  const width = rows[0]?.length ?? 0;
  const out: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) push(out, ...row);
  return out;
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
