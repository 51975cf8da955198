import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Telemetry (docs/telemetry.md). Times are epoch ms; buckets are the bucket's start.
 *
 * - `telemetry_points(device, metric, ts, value)`: raw numeric points, indexed by
 *   (device, metric, ts) for time-range reads of one series. No uniqueness: duplicates are kept
 *   out by `telemetry_seen`, so the hot insert checks one small index, not the big one.
 *   Layout by engine: SQLite, one table; PostgreSQL, range partitions by day on `ts` (created by
 *   the store before it writes a day, dropped whole by retention); PostgreSQL with TimescaleDB
 *   installed or preloadable, a hypertable of one-day chunks, compressed after a day.
 * - `telemetry_samples(device, name, ts, data)`: structured samples (JSON), one table.
 * - `telemetry_seen(device, seq, ts)`: agent message numbers already stored; a replayed message
 *   hits the primary key and is acknowledged without being stored again. Pruned by `ts`.
 * - `telemetry_latest(device, metric, ts, value)`: newest point of every series; also the series
 *   catalogue that rollups and retention walk, so they use the (device, metric, ts) index.
 * - `telemetry_dirty(device, bucket, version, claimed)`: minutes that received points since they
 *   were last rolled up; the rollup job claims, recomputes and deletes them.
 * - `telemetry_rollup_1m`, `telemetry_rollup_1h`: min, max, sum (`total`), count (`n`) and the
 *   last value with its time, per series and bucket.
 * - `telemetry_settings(name, value)`: `layout` = `plain` | `partitioned` | `timescale`.
 */
export function telemetry(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const layout = schema.engine === 'sqlite' ? 'plain' : await postgresLayout(db);
      const points = db.schema
        .createTable('telemetry_points')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('metric', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('value', 'double precision', (col) => col.notNull());
      await (layout === 'partitioned' ? points.modifyEnd(sql`partition by range (ts)`) : points).execute();
      await db.schema
        .createIndex('telemetry_points_series_ts')
        .on('telemetry_points')
        .columns(['device', 'metric', 'ts'])
        .execute();
      if (layout === 'timescale') await timescale(db);

      await db.schema
        .createTable('telemetry_samples')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('data', schema.json, (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('telemetry_samples_series_ts')
        .on('telemetry_samples')
        .columns(['device', 'name', 'ts'])
        .execute();
      await db.schema.createIndex('telemetry_samples_ts').on('telemetry_samples').column('ts').execute();

      await db.schema
        .createTable('telemetry_seen')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('seq', schema.bigint, (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addPrimaryKeyConstraint('telemetry_seen_pk', ['device', 'seq'])
        .execute();
      await db.schema.createIndex('telemetry_seen_ts').on('telemetry_seen').column('ts').execute();

      await db.schema
        .createTable('telemetry_latest')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('metric', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('value', 'double precision', (col) => col.notNull())
        .addPrimaryKeyConstraint('telemetry_latest_pk', ['device', 'metric'])
        .execute();

      await db.schema
        .createTable('telemetry_dirty')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('bucket', schema.bigint, (col) => col.notNull())
        .addColumn('version', schema.bigint, (col) => col.notNull())
        .addColumn('claimed', schema.bigint)
        .addPrimaryKeyConstraint('telemetry_dirty_pk', ['device', 'bucket'])
        .execute();

      for (const table of ['telemetry_rollup_1m', 'telemetry_rollup_1h'] as const) {
        await db.schema
          .createTable(table)
          .addColumn('device', 'text', (col) => col.notNull())
          .addColumn('metric', 'text', (col) => col.notNull())
          .addColumn('bucket', schema.bigint, (col) => col.notNull())
          .addColumn('min_value', 'double precision', (col) => col.notNull())
          .addColumn('max_value', 'double precision', (col) => col.notNull())
          .addColumn('total', 'double precision', (col) => col.notNull())
          .addColumn('n', schema.bigint, (col) => col.notNull())
          .addColumn('last_ts', schema.bigint, (col) => col.notNull())
          .addColumn('last_value', 'double precision', (col) => col.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['device', 'metric', 'bucket'])
          .execute();
      }

      await db.schema
        .createTable('telemetry_settings')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('value', 'text', (col) => col.notNull())
        .execute();
      await sql`insert into telemetry_settings (name, value) values ('layout', ${layout})`.execute(db);
    },
  };
}

/**
 * TimescaleDB when the database has it, or when the server offers it and preloads it (then
 * CREATE EXTENSION is tried under a savepoint: a role without the right to create it falls back
 * to native partitions instead of failing the migration).
 */
async function postgresLayout(db: Kysely<unknown>): Promise<'partitioned' | 'timescale'> {
  const { rows } = await sql<{ installed: boolean; available: boolean; preloaded: boolean }>`
    select exists (select 1 from pg_extension where extname = 'timescaledb') as installed,
           exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
           coalesce(current_setting('shared_preload_libraries', true), '') like '%timescaledb%' as preloaded
  `.execute(db);
  const found = rows[0];
  if (found?.installed) return 'timescale';
  if (!found?.available || !found.preloaded) return 'partitioned';
  await sql`savepoint flotilla_timescale`.execute(db);
  try {
    await sql`create extension if not exists timescaledb`.execute(db);
    await sql`release savepoint flotilla_timescale`.execute(db);
    return 'timescale';
  } catch {
    await sql`rollback to savepoint flotilla_timescale`.execute(db);
    return 'partitioned';
  }
}

/**
 * A hypertable on the integer `ts` (ms) with one-day chunks; chunks older than a day are
 * compressed, segmented by series and ordered by time (what every query filters and sorts by).
 * Integer time needs an "integer now" function for the compression policy. Retention is not a
 * Timescale policy: the hub's own job calls drop_chunks, so one setting drives every layout.
 */
async function timescale(db: Kysely<unknown>): Promise<void> {
  await sql`select create_hypertable('telemetry_points', 'ts', chunk_time_interval => 86400000::bigint)`.execute(db);
  await sql`
    create or replace function telemetry_now_ms() returns bigint language sql stable
    as $$ select (extract(epoch from now()) * 1000)::bigint $$
  `.execute(db);
  await sql`select set_integer_now_func('telemetry_points', 'telemetry_now_ms')`.execute(db);
  await sql`
    alter table telemetry_points set (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'device, metric',
      timescaledb.compress_orderby = 'ts'
    )
  `.execute(db);
  await sql`select add_compression_policy('telemetry_points', compress_after => 86400000::bigint)`.execute(db);
}
