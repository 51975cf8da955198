import type { Kysely } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { Database } from './schema.js';
import { scanFrames } from './telemetry-frames.js';
import { SERIES_REFRESH_MS } from './telemetry-series.js';
import type { AggregateQuery, AggregateRow, LatestValue, RawQuery, TimedValue } from './telemetry-types.js';

/**
 * Reads of raw points in the `frames` layout (SQLite, telemetry-frames.ts): the same answers
 * TelemetryQueries gives from `telemetry_values` on PostgreSQL, computed here from the device's
 * frames in the time range (found through the (device, ts) index), decoded in JS.
 */

/** One series' aggregate over one bucket, as the SQL computes it (`last`: newest point, ties the larger value). */
export interface Accumulator {
  min: number;
  max: number;
  sum: number;
  count: number;
  lastTs: number;
  last: number;
}

export class FrameQueries {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async points(query: RawQuery): Promise<TimedValue[]> {
    return guard('reading telemetry points', async () => {
      const db = this.#engine.db;
      const series = await db
        .selectFrom('telemetry_series')
        .select('id')
        .where('device', '=', query.device)
        .where('metric', '=', query.metric)
        .executeTakeFirst();
      const out: TimedValue[] = [];
      if (series === undefined || query.limit <= 0) return out;
      const id = Number(series.id);
      for await (const { ts, frame } of scanFrames(db, query.device, query.from, query.to)) {
        for (let i = 0; i < frame.ids.length; i++) {
          if (frame.ids[i] !== id) continue;
          out.push({ ts, value: frame.values[i] as number });
          if (out.length >= query.limit) return out;
        }
      }
      return out;
    });
  }

  /**
   * The newest point of every series of the device. Every point of a series is less than
   * SERIES_REFRESH_MS of data time after its catalogue row's `ts` (a later one refreshes the row:
   * telemetry-series.ts), and none is before it but replays; so the newest is in
   * [catalogue ts, + SERIES_REFRESH_MS) and only those windows are read. A series none of whose
   * points is left there (past retention) answers with the catalogue's value.
   */
  async latest(device: string): Promise<LatestValue[]> {
    return guard('reading latest telemetry', async () => {
      const db = this.#engine.db;
      const catalogue = await db
        .selectFrom('telemetry_series')
        .select(['id', 'metric', 'ts', 'value'])
        .where('device', '=', device)
        .orderBy('metric')
        .execute();
      const newest = new Map<number, { ts: number; value: number }>();
      for (const [from, to] of windows(catalogue.map((row) => Number(row.ts)))) {
        for await (const { ts, frame } of scanFrames(db, device, from, to)) {
          for (let i = 0; i < frame.ids.length; i++) {
            const id = frame.ids[i] as number;
            const value = frame.values[i] as number;
            const known = newest.get(id);
            if (known === undefined || ts > known.ts) newest.set(id, { ts, value });
            else if (ts === known.ts && value > known.value) known.value = value;
          }
        }
      }
      return catalogue.map((row) => {
        const found = newest.get(Number(row.id));
        return found !== undefined && found.ts >= Number(row.ts)
          ? { metric: row.metric, ts: found.ts, value: found.value }
          : { metric: row.metric, ts: Number(row.ts), value: Number(row.value) };
      });
    });
  }

  /** `aggregate` from raw points: per device and bucket. */
  async aggregate(query: AggregateQuery): Promise<AggregateRow[]> {
    return guard('reading telemetry aggregates', async () => {
      const db = this.#engine.db;
      const out: AggregateRow[] = [];
      for (const device of query.devices) {
        const series = await db
          .selectFrom('telemetry_series')
          .select('id')
          .where('device', '=', device)
          .where('metric', '=', query.metric)
          .executeTakeFirst();
        if (series === undefined) continue;
        const id = Number(series.id);
        const buckets = await aggregateFrames(db, device, (candidate) => candidate === id, query, query.bucketMs);
        for (const [bucket, series] of buckets) {
          const acc = series.get(id);
          if (acc !== undefined) out.push(row(device, bucket, acc));
        }
      }
      return out.sort((a, b) => a.bucket - b.bucket || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
    });
  }
}

/**
 * Aggregates the points of the series `wanted` accepts over the device's frames in [from, to),
 * per bucket of `bucketMs` (its start) and series id.
 */
export async function aggregateFrames(
  db: Kysely<Database>,
  device: string,
  wanted: (id: number) => boolean,
  range: { from: number; to: number },
  bucketMs: number,
): Promise<Map<number, Map<number, Accumulator>>> {
  const out = new Map<number, Map<number, Accumulator>>();
  let bucket = Number.NaN;
  let series = new Map<number, Accumulator>();
  for await (const { ts, frame } of scanFrames(db, device, range.from, range.to)) {
    const start = Math.floor(ts / bucketMs) * bucketMs;
    if (start !== bucket) {
      bucket = start;
      const known = out.get(bucket);
      if (known === undefined) out.set(bucket, (series = new Map()));
      else series = known;
    }
    for (let i = 0; i < frame.ids.length; i++) {
      const id = frame.ids[i] as number;
      if (!wanted(id)) continue;
      const value = frame.values[i] as number;
      const acc = series.get(id);
      if (acc === undefined) {
        series.set(id, { min: value, max: value, sum: value, count: 1, lastTs: ts, last: value });
        continue;
      }
      if (value < acc.min) acc.min = value;
      if (value > acc.max) acc.max = value;
      acc.sum += value;
      acc.count++;
      if (ts > acc.lastTs) {
        acc.lastTs = ts;
        acc.last = value;
      } else if (ts === acc.lastTs && value > acc.last) acc.last = value;
    }
  }
  return out;
}

function row(device: string, bucket: number, acc: Accumulator): AggregateRow {
  return {
    device,
    bucket,
    min: acc.min,
    max: acc.max,
    sum: acc.sum,
    count: acc.count,
    lastTs: acc.lastTs,
    last: acc.last,
  };
}

/** [ts, ts + SERIES_REFRESH_MS) for every catalogue time, overlapping ones merged, oldest first. */
function windows(times: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const ts of times.sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last !== undefined && ts <= last[1]) last[1] = Math.max(last[1], ts + SERIES_REFRESH_MS);
    else out.push([ts, ts + SERIES_REFRESH_MS]);
  }
  return out;
}
