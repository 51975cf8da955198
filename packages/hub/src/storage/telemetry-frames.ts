import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Raw points on SQLite (layout `frames`, migration 0016): one row per stored message,
 * `telemetry_frames(device, ts, data)` indexed by (device, ts), where `data` packs the message's
 * points — every one at the row's `ts` — as little-endian float64 values followed by uint32
 * series ids (12 bytes a point).
 *
 * Why not one row per point, as on PostgreSQL: SQLite writes every page a transaction dirties to
 * the WAL (and later to the file). With a (series_id, ts) index, a batch holding one point of each
 * of 50,000 series dirties about one index page per series, whatever the batch's size: measured,
 * 1.7 KB written per 12-byte point, and 60,000 points/s at best. A row per message dirties one
 * index page per device and appends the rest: ~230 bytes written per point, 25× faster
 * (docs/telemetry.md, BENCHMARKS.md). Reads pay instead: a query for one metric decodes the
 * device's frames in its time range, which is cheap next to a page read.
 */

/** Bytes one point takes in a frame: its float64 value and its uint32 series id. */
export const FRAME_POINT_BYTES = 12;
const MAX_SERIES_ID = 0xffff_ffff;

/** The frame of points `start`..`end` of the parallel arrays `ids` and `values`. */
export function encodeFrame(ids: ArrayLike<number>, values: ArrayLike<number>, start: number, end: number): Uint8Array {
  const count = end - start;
  const frame = new Uint8Array(count * FRAME_POINT_BYTES);
  const view = new DataView(frame.buffer);
  const idsAt = count * 8;
  for (let i = 0; i < count; i++) {
    const id = ids[start + i] as number;
    if (!(id >= 0 && id <= MAX_SERIES_ID)) throw new RangeError(`series id ${id} does not fit a telemetry frame`);
    view.setFloat64(i * 8, values[start + i] as number, true);
    view.setUint32(idsAt + i * 4, id, true);
  }
  return frame;
}

/** A frame read back: point i is series `ids[i]` with value `values[i]`. */
export interface DecodedFrame {
  ids: Uint32Array;
  values: Float64Array;
}

export function decodeFrame(data: Uint8Array): DecodedFrame {
  const count = Math.floor(data.byteLength / FRAME_POINT_BYTES);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ids = new Uint32Array(count);
  const values = new Float64Array(count);
  const idsAt = count * 8;
  for (let i = 0; i < count; i++) {
    values[i] = view.getFloat64(i * 8, true);
    ids[i] = view.getUint32(idsAt + i * 4, true);
  }
  return { ids, values };
}

/** Frames read per statement while scanning: a day of one device's frames is never in memory at once. */
const SCAN_PAGE = 512;

interface FrameRow {
  r: number | bigint;
  ts: number | bigint;
  data: Uint8Array;
}

/** The frames of `device` with `from` ≤ ts < `to`, oldest first (ties in insertion order), page by page. */
export async function* scanFrames(
  db: Kysely<Database>,
  device: string,
  from: number,
  to: number,
): AsyncGenerator<{ ts: number; frame: DecodedFrame }> {
  let lastTs = from;
  let lastRow = -1;
  for (;;) {
    // `ts >= lastTs` bounds the index range; the row value skips what earlier pages returned.
    const { rows } = await sql<FrameRow>`
      select rowid as r, ts, data from telemetry_frames
      where device = ${device} and ts >= ${lastTs} and ts < ${to} and (ts, rowid) > (${lastTs}, ${lastRow})
      order by ts, rowid limit ${sql.lit(SCAN_PAGE)}`.execute(db);
    for (const row of rows) yield { ts: Number(row.ts), frame: decodeFrame(row.data) };
    if (rows.length < SCAN_PAGE) return;
    const last = rows[rows.length - 1] as FrameRow;
    lastTs = Number(last.ts);
    lastRow = Number(last.r);
  }
}
