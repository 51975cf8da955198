import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Telemetry series ids (docs/storage.md, telemetry). Migration 0006 stored every raw point as
 * (device, metric, ts, value), repeating both names as text in the table and in its
 * (device, metric, ts) index; writes spent most of their time there. Now:
 *
 * - `telemetry_series(id, device, metric, ts, value)`: one row per series with an integer id,
 *   unique on (device, metric); `ts`/`value` are its newest point as last written (refreshed at
 *   most once a minute of data time per series). It replaces `telemetry_latest` as the series
 *   catalogue that rollups and retention walk.
 * - `telemetry_values(series_id, ts, value)`: the raw points, indexed by (series_id, ts); laid
 *   out as `telemetry_points` was (one table on SQLite, day partitions `telemetry_values_d<N>` on
 *   PostgreSQL, a compressed hypertable segmented by series on TimescaleDB).
 *
 * Existing data moves over: catalogue rows become series, points are copied with their series
 * id (a point whose series had already left the catalogue — past every retention — is dropped),
 * then `telemetry_points` and `telemetry_latest` are dropped. Rollups, samples, dedup records
 * and dirty minutes keep their tables.
 */
export function telemetrySeries(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const layout = await currentLayout(db);
      const series = db.schema
        .createTable('telemetry_series')
        .addColumn('id', schema.autoIncrementType, (col) => schema.autoIncrement(col))
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('metric', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('value', 'double precision', (col) => col.notNull())
        .addUniqueConstraint('telemetry_series_device_metric', ['device', 'metric']);
      await series.execute();

      const values = db.schema
        .createTable('telemetry_values')
        .addColumn('series_id', schema.bigint, (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('value', 'double precision', (col) => col.notNull());
      await (layout === 'partitioned' ? values.modifyEnd(sql`partition by range (ts)`) : values).execute();
      await db.schema
        .createIndex('telemetry_values_series_ts')
        .on('telemetry_values')
        .columns(['series_id', 'ts'])
        .execute();
      if (layout === 'timescale') await timescale(db);
      if (layout === 'partitioned') await copyPartitions(db);

      await sql`
        insert into telemetry_series (device, metric, ts, value)
        select device, metric, ts, value from telemetry_latest`.execute(db);
      await sql`
        insert into telemetry_values (series_id, ts, value)
        select s.id, p.ts, p.value from telemetry_points p
        join telemetry_series s on s.device = p.device and s.metric = p.metric`.execute(db);
      await db.schema.dropTable('telemetry_points').execute();
      await db.schema.dropTable('telemetry_latest').execute();
    },
  };
}

async function currentLayout(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ value: string }>`
    select value from telemetry_settings where name = 'layout'`.execute(db);
  return rows[0]?.value ?? 'plain';
}

/** A `telemetry_values_d<N>` partition for every day `telemetry_points` has one for. */
async function copyPartitions(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'telemetry_points' and p.relnamespace = to_regnamespace(current_schema())
  `.execute(db);
  for (const { name } of rows) {
    const day = /^telemetry_points_d(\d+)$/.exec(name)?.[1];
    if (day === undefined) continue;
    const from = sql.lit(Number(day) * 86_400_000);
    const to = sql.lit((Number(day) + 1) * 86_400_000);
    await sql`create table ${sql.table(`telemetry_values_d${day}`)} partition of telemetry_values
      for values from (${from}) to (${to})`.execute(db);
  }
}

/** As 0006 did for telemetry_points: one-day chunks, compressed after a day, by series. */
async function timescale(db: Kysely<unknown>): Promise<void> {
  await sql`select create_hypertable('telemetry_values', 'ts', chunk_time_interval => 86400000::bigint)`.execute(db);
  await sql`select set_integer_now_func('telemetry_values', 'telemetry_now_ms')`.execute(db);
  await sql`
    alter table telemetry_values set (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'series_id',
      timescaledb.compress_orderby = 'ts'
    )
  `.execute(db);
  await sql`select add_compression_policy('telemetry_values', compress_after => 86400000::bigint)`.execute(db);
}
