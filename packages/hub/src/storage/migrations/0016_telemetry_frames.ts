import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';
import { encodeFrame } from '../telemetry-frames.js';

/**
 * SQLite only (docs/telemetry.md, layouts): raw points move from one row per point
 * (`telemetry_values(series_id, ts, value)`, indexed by (series_id, ts)) to one row per message,
 * `telemetry_frames(device, ts, data)` indexed by (device, ts), `data` packing the message's
 * points (storage/telemetry-frames.ts says why). The layout setting becomes `frames`.
 * PostgreSQL keeps `telemetry_values`: its writes do not dirty a page per series (COPY into
 * heap pages, a B-tree insert per row in shared buffers) and its figures meet the goal as they are.
 *
 * Existing points are carried over in rowid order, page by page: consecutive points of one device
 * at one time become one frame (the old writer inserted a message's points together).
 */

const PAGE = 50_000;
/** Frames per INSERT: 3 parameters each. */
const FRAMES_PER_INSERT = 300;

interface PointRow {
  r: number | bigint;
  device: string;
  ts: number | bigint;
  series_id: number | bigint;
  value: number;
}

export function telemetryFrames(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (schema.engine !== 'sqlite') return;
      await db.schema
        .createTable('telemetry_frames')
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('data', 'blob', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('telemetry_frames_device_ts')
        .on('telemetry_frames')
        .columns(['device', 'ts'])
        .execute();
      let after = -1;
      for (;;) {
        const { rows } = await sql<PointRow>`
          select v.rowid as r, s.device as device, v.ts as ts, v.series_id as series_id, v.value as value
          from telemetry_values v join telemetry_series s on s.id = v.series_id
          where v.rowid > ${after} order by v.rowid limit ${sql.lit(PAGE)}`.execute(db);
        if (rows.length === 0) break;
        await insertFrames(db, rows);
        after = Number((rows[rows.length - 1] as PointRow).r);
      }
      await db.schema.dropTable('telemetry_values').execute();
      await sql`update telemetry_settings set value = 'frames' where name = 'layout'`.execute(db);
    },
  };
}

async function insertFrames(db: Kysely<unknown>, rows: readonly PointRow[]): Promise<void> {
  const ids = rows.map((row) => Number(row.series_id));
  const values = rows.map((row) => row.value);
  const frames: { device: string; ts: number; data: Uint8Array }[] = [];
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    const first = rows[start] as PointRow;
    const row = rows[i];
    if (row !== undefined && row.device === first.device && Number(row.ts) === Number(first.ts)) continue;
    frames.push({ device: first.device, ts: Number(first.ts), data: encodeFrame(ids, values, start, i) });
    start = i;
  }
  for (let i = 0; i < frames.length; i += FRAMES_PER_INSERT) {
    const tuples = frames.slice(i, i + FRAMES_PER_INSERT).map((f) => sql`(${f.device}, ${f.ts}, ${f.data})`);
    await sql`insert into telemetry_frames (device, ts, data) values ${sql.join(tuples)}`.execute(db);
  }
}
