import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { Database } from './schema.js';
import { aggregateFrames } from './telemetry-frame-queries.js';
import { col, insertColumns, kyselyRunner } from './telemetry-insert.js';
import { DAY_MS, type TelemetryPartitions } from './telemetry-partitions.js';
import { MINUTE_MS } from './telemetry-writes.js';
import { FRAME_POINT_BYTES } from './telemetry-frames.js';
import type { RetentionCutoffs, RetentionResult, TelemetryLayout } from './telemetry-types.js';

/** Dirty device-minutes recomputed per transaction: short transactions, so writers wait little. */
const DIRTY_PER_TRANSACTION = 200;
/** SQLite: rows deleted per statement, with a turn of the event loop between statements. */
const SQLITE_DELETE_CHUNK = 5_000;

const MINUTE = sql.lit(60_000);
const HOUR = sql.lit(3_600_000);

/** Minute rollups of the claimed minutes, from `telemetry_values`, in SQL. */
async function rollupPointMinutes(trx: Transaction<Database>, rawCutoff: number): Promise<void> {
  // WHERE true: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
  await sql`
    insert into telemetry_rollup_1m (device, metric, bucket, min_value, max_value, total, n, last_ts, last_value)
    select a.device, a.metric, a.bucket, a.mn, a.mx, a.total, a.n, a.last_ts,
      (select max(q.value) from telemetry_values q where q.series_id = a.id and q.ts = a.last_ts)
    from (
      select d.device as device, s.metric as metric, s.id as id, d.bucket as bucket, min(p.value) as mn,
        max(p.value) as mx, sum(p.value) as total, count(*) as n, max(p.ts) as last_ts
      from telemetry_dirty d
      join telemetry_series s on s.device = d.device
      join telemetry_values p on p.series_id = s.id and p.ts >= d.bucket and p.ts < d.bucket + ${MINUTE}
      where d.claimed is not null and d.bucket >= ${rawCutoff}
      group by 1, 2, 3, 4
    ) a
    where true
    on conflict (device, metric, bucket) do update set
      min_value = excluded.min_value, max_value = excluded.max_value, total = excluded.total,
      n = excluded.n, last_ts = excluded.last_ts, last_value = excluded.last_value`.execute(trx);
}

const ROLLUP = [
  col('device', 'text'),
  col('metric', 'text'),
  col('bucket', 'int8'),
  col('min_value', 'float8'),
  col('max_value', 'float8'),
  col('total', 'float8'),
  col('n', 'int8'),
  col('last_ts', 'int8'),
  col('last_value', 'float8'),
];

/** Minute rollups of the claimed minutes, from `telemetry_frames` (decoded here), as the SQL above computes them. */
async function rollupFrameMinutes(trx: Transaction<Database>, rawCutoff: number): Promise<void> {
  const claimed = await trx
    .selectFrom('telemetry_dirty')
    .select(['device', 'bucket'])
    .where('claimed', 'is not', null)
    .where('bucket', '>=', rawCutoff)
    .orderBy('device')
    .orderBy('bucket')
    .execute();
  const rows: unknown[][] = ROLLUP.map(() => []);
  let device: string | undefined;
  let metrics = new Map<number, string>();
  for (const minute of claimed) {
    if (minute.device !== device) {
      device = minute.device;
      const series = await trx
        .selectFrom('telemetry_series')
        .select(['id', 'metric'])
        .where('device', '=', device)
        .execute();
      metrics = new Map(series.map((s) => [Number(s.id), s.metric]));
    }
    const bucket = Number(minute.bucket);
    const range = { from: bucket, to: bucket + MINUTE_MS };
    const buckets = await aggregateFrames(trx, device, (id) => metrics.has(id), range, MINUTE_MS);
    for (const [id, acc] of buckets.get(bucket) ?? []) {
      const values = [device, metrics.get(id), bucket, acc.min, acc.max, acc.sum, acc.count, acc.lastTs, acc.last];
      values.forEach((value, c) => rows[c]?.push(value));
    }
  }
  await insertColumns(
    kyselyRunner('sqlite', trx),
    'telemetry_rollup_1m',
    ROLLUP,
    rows,
    'on conflict (device, metric, bucket) do update set min_value = excluded.min_value, max_value = excluded.max_value, ' +
      'total = excluded.total, n = excluded.n, last_ts = excluded.last_ts, last_value = excluded.last_value',
  );
}

/**
 * Rollups and retention. Rollups are recomputed from the source, never incremented: the writer
 * marks every (device, minute) it writes in `telemetry_dirty`; a pass claims a few hundred of
 * them, recomputes those minutes from raw points and the hours that contain them from minute
 * rollups, and deletes the claims, all in one transaction. A write to a claimed minute while
 * the pass runs waits for the row lock (PostgreSQL) or the write lock (SQLite) and marks the
 * minute again afterwards, so late and replayed data are rolled up exactly once more, never lost.
 */
export class TelemetryMaintenance {
  readonly #engine: EngineConnection;
  readonly #partitions: TelemetryPartitions;

  constructor(engine: EngineConnection, partitions: TelemetryPartitions) {
    this.#engine = engine;
    this.#partitions = partitions;
  }

  /**
   * Recomputes dirty minutes (and their hours) until none are left or `maxTransactions` ran;
   * minutes before `rawCutoff` are dropped without recomputing (their raw points are gone).
   * Returns the number of device-minutes handled.
   */
  async rollup(rawCutoff: number, layout: TelemetryLayout, maxTransactions = 100): Promise<number> {
    let handled = 0;
    for (let i = 0; i < maxTransactions; i++) {
      const claimed = await guard('rolling up telemetry', () =>
        this.#engine.db.transaction().execute((trx) => this.#rollupOnce(trx, rawCutoff, layout)),
      );
      handled += claimed;
      if (claimed < DIRTY_PER_TRANSACTION) break;
      await nextTurn();
    }
    return handled;
  }

  async #rollupOnce(trx: Transaction<Database>, rawCutoff: number, layout: TelemetryLayout): Promise<number> {
    const claim = await sql`
      update telemetry_dirty set claimed = version
      where (device, bucket) in (
        select device, bucket from telemetry_dirty order by bucket limit ${sql.lit(DIRTY_PER_TRANSACTION)}
      )`.execute(trx);
    const claimed = Number(claim.numAffectedRows ?? 0);
    if (claimed === 0) return 0;
    if (layout === 'frames') await rollupFrameMinutes(trx, rawCutoff);
    else await rollupPointMinutes(trx, rawCutoff);
    await sql`
      insert into telemetry_rollup_1h (device, metric, bucket, min_value, max_value, total, n, last_ts, last_value)
      select a.device, a.metric, a.bucket, a.mn, a.mx, a.total, a.n, a.last_ts,
        (select max(q.last_value) from telemetry_rollup_1m q
          where q.device = a.device and q.metric = a.metric
            and q.bucket >= a.bucket and q.bucket < a.bucket + ${HOUR} and q.last_ts = a.last_ts)
      from (
        select h.device as device, l.metric as metric, h.hour as bucket, min(r.min_value) as mn,
          max(r.max_value) as mx, sum(r.total) as total, cast(sum(r.n) as bigint) as n, max(r.last_ts) as last_ts
        from (
          select distinct device, (bucket / ${HOUR}) * ${HOUR} as hour
          from telemetry_dirty where claimed is not null and bucket >= ${rawCutoff}
        ) h
        join telemetry_series l on l.device = h.device
        join telemetry_rollup_1m r on r.device = h.device and r.metric = l.metric
          and r.bucket >= h.hour and r.bucket < h.hour + ${HOUR}
        group by 1, 2, 3
      ) a
      where true
      on conflict (device, metric, bucket) do update set
        min_value = excluded.min_value, max_value = excluded.max_value, total = excluded.total,
        n = excluded.n, last_ts = excluded.last_ts, last_value = excluded.last_value`.execute(trx);
    await sql`delete from telemetry_dirty where claimed is not null`.execute(trx);
    return claimed;
  }

  /**
   * Deletes what is older than the cutoffs. Raw points: whole day partitions (PostgreSQL) or
   * chunks (TimescaleDB) first, then row by row per series through the (series_id, ts) index,
   * walking the series catalogue `telemetry_series` (pruned last, once every table has nothing
   * of a series left), so no step scans a whole table.
   */
  async retain(cutoffs: RetentionCutoffs, layout: TelemetryLayout): Promise<RetentionResult> {
    const db = this.#engine.db;
    return guard('applying telemetry retention', async () => {
      let partitions = 0;
      if (layout === 'partitioned') partitions = await this.#partitions.dropBefore(cutoffs.raw);
      if (layout === 'timescale') {
        const { rows } = await sql<{ chunk: string }>`
          select drop_chunks('telemetry_values', older_than => ${sql.lit(cutoffs.raw)}::bigint) as chunk`.execute(db);
        partitions = rows.length;
      }
      const points =
        layout === 'timescale'
          ? 0
          : layout === 'frames'
            ? await this.#deleteFrames(db, cutoffs.raw)
            : await this.#deleteBySeries(db, 'telemetry_values', sql`t.series_id = l.id`, 'ts', cutoffs.raw);
      const byName = sql`t.device = l.device and t.metric = l.metric`;
      let rollups = await this.#deleteBySeries(db, 'telemetry_rollup_1m', byName, 'bucket', cutoffs.rollup1m);
      rollups += await this.#deleteBySeries(db, 'telemetry_rollup_1h', byName, 'bucket', cutoffs.rollup1h);
      await db.deleteFrom('telemetry_samples').where('ts', '<', cutoffs.raw).execute();
      await db.deleteFrom('telemetry_seen').where('ts', '<', cutoffs.seen).execute();
      await db
        .deleteFrom('telemetry_dirty')
        .where('bucket', '<', cutoffs.raw - 60_000)
        .execute();
      // A series whose newest point is older than every cutoff has no rows left anywhere. The
      // catalogue's ts may trail the newest point by SERIES_REFRESH_MS: a day of margin.
      const oldest = Math.min(cutoffs.raw, cutoffs.rollup1m, cutoffs.rollup1h) - DAY_MS;
      const pruned = await db.deleteFrom('telemetry_series').where('ts', '<', oldest).executeTakeFirst();
      return { points, partitions, rollups, series: Number(pruned.numDeletedRows) };
    });
  }

  /** SQLite frames before `cutoff`, per device through the (device, ts) index; returns the points deleted. */
  async #deleteFrames(db: Kysely<Database>, cutoff: number): Promise<number> {
    let points = 0;
    for (;;) {
      const { rows } = await sql<{ bytes: number }>`
        delete from telemetry_frames where rowid in (
          select f.rowid from (select distinct device from telemetry_series) d
          join telemetry_frames f on f.device = d.device and f.ts < ${cutoff}
          limit ${sql.lit(SQLITE_DELETE_CHUNK)}
        ) returning length(data) as bytes`.execute(db);
      for (const row of rows) points += Number(row.bytes) / FRAME_POINT_BYTES;
      if (rows.length < SQLITE_DELETE_CHUNK) return points;
      await nextTurn();
    }
  }

  async #deleteBySeries(
    db: Kysely<Database>,
    table: 'telemetry_values' | 'telemetry_rollup_1m' | 'telemetry_rollup_1h',
    series: RawBuilder<unknown>,
    time: 'ts' | 'bucket',
    cutoff: number,
  ): Promise<number> {
    const t = sql.table(table);
    const ts = sql.ref(`t.${time}`);
    if (this.#engine.engine === 'postgres') {
      const result = await sql`
        delete from ${t} as t using telemetry_series l
        where ${series} and ${ts} < ${cutoff}`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    }
    let deleted = 0;
    for (;;) {
      const result = await sql`
        delete from ${t} where rowid in (
          select t.rowid from telemetry_series l
          join ${t} as t on ${series} and ${ts} < ${cutoff}
          limit ${sql.lit(SQLITE_DELETE_CHUNK)}
        )`.execute(db);
      const n = Number(result.numAffectedRows ?? 0);
      deleted += n;
      if (n < SQLITE_DELETE_CHUNK) return deleted;
      await nextTurn();
    }
  }
}
