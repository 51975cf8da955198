import { sql } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type {
  AggregateQuery,
  AggregateRow,
  LatestValue,
  RawQuery,
  SampleQuery,
  StoredSample,
  TimedValue,
  VolumeQuery,
} from './telemetry-types.js';

/** Devices per statement: far below SQLite's and PostgreSQL's parameter limits. */
const DEVICES_PER_STATEMENT = 500;

interface AggregateSqlRow {
  device: string;
  bucket: number | string;
  mn: number;
  mx: number;
  total: number;
  n: number | string;
  last_ts: number | string;
  last_value: number;
}

/**
 * Reads of the telemetry tables, the same SQL on both engines. Aggregates come back per device
 * and bucket (min, max, sum, count, last with its time), so the caller can merge devices and
 * finer buckets exactly; `last` is the value of the newest point, found through the series index.
 */
export class TelemetryQueries {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async aggregate(query: AggregateQuery): Promise<AggregateRow[]> {
    const out: AggregateRow[] = [];
    for (let i = 0; i < query.devices.length; i += DEVICES_PER_STATEMENT) {
      const devices = query.devices.slice(i, i + DEVICES_PER_STATEMENT);
      const rows = await guard('reading telemetry aggregates', () =>
        (query.source === 'raw' ? this.#raw(query, devices) : this.#rollup(query, devices)).execute(this.#engine.db),
      );
      for (const row of rows.rows) {
        out.push({
          device: row.device,
          bucket: Number(row.bucket),
          min: Number(row.mn),
          max: Number(row.mx),
          sum: Number(row.total),
          count: Number(row.n),
          lastTs: Number(row.last_ts),
          last: Number(row.last_value),
        });
      }
    }
    return out.sort((a, b) => a.bucket - b.bucket || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  }

  #raw(query: AggregateQuery, devices: readonly string[]) {
    const b = sql.lit(query.bucketMs);
    return sql<AggregateSqlRow>`
      select a.device, a.bucket, a.mn, a.mx, a.total, a.n, a.last_ts,
        (select max(q.value) from telemetry_values q where q.series_id = a.id and q.ts = a.last_ts) as last_value
      from (
        select s.device as device, s.id as id, (v.ts / ${b}) * ${b} as bucket, min(v.value) as mn,
          max(v.value) as mx, sum(v.value) as total, count(*) as n, max(v.ts) as last_ts
        from telemetry_series s
        join telemetry_values v on v.series_id = s.id and v.ts >= ${query.from} and v.ts < ${query.to}
        where s.device in (${sql.join(devices)}) and s.metric = ${query.metric}
        group by 1, 2, 3
      ) a`;
  }

  #rollup(query: AggregateQuery, devices: readonly string[]) {
    const b = sql.lit(query.bucketMs);
    const table = sql.table(query.source === 'rollup_1h' ? 'telemetry_rollup_1h' : 'telemetry_rollup_1m');
    return sql<AggregateSqlRow>`
      select a.device, a.bucket, a.mn, a.mx, a.total, a.n, a.last_ts,
        (select max(q.last_value) from ${table} q
          where q.device = a.device and q.metric = ${query.metric}
            and q.bucket >= a.bucket and q.bucket < a.bucket + ${b} and q.last_ts = a.last_ts) as last_value
      from (
        select r.device as device, (r.bucket / ${b}) * ${b} as bucket, min(r.min_value) as mn,
          max(r.max_value) as mx, sum(r.total) as total, cast(sum(r.n) as bigint) as n, max(r.last_ts) as last_ts
        from ${table} r
        where r.device in (${sql.join(devices)}) and r.metric = ${query.metric}
          and r.bucket >= ${query.from} and r.bucket < ${query.to}
        group by 1, 2
      ) a`;
  }

  /** Points stored per device (all metrics) in the rollup buckets of the range; devices without any are absent. */
  async volume(query: VolumeQuery): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const table = sql.table(query.source === 'rollup_1h' ? 'telemetry_rollup_1h' : 'telemetry_rollup_1m');
    for (let i = 0; i < query.devices.length; i += DEVICES_PER_STATEMENT) {
      const devices = query.devices.slice(i, i + DEVICES_PER_STATEMENT);
      const { rows } = await guard('counting telemetry points', () =>
        sql<{ device: string; n: number | string }>`
          select r.device as device, cast(sum(r.n) as bigint) as n from ${table} r
          where r.device in (${sql.join(devices)}) and r.bucket >= ${query.from} and r.bucket < ${query.to}
          group by r.device`.execute(this.#engine.db),
      );
      for (const row of rows) out.set(row.device, Number(row.n));
    }
    return out;
  }

  async points(query: RawQuery): Promise<TimedValue[]> {
    const rows = await guard('reading telemetry points', () =>
      this.#engine.db
        .selectFrom('telemetry_values as v')
        .innerJoin('telemetry_series as s', 's.id', 'v.series_id')
        .select(['v.ts', 'v.value'])
        .where('s.device', '=', query.device)
        .where('s.metric', '=', query.metric)
        .where('v.ts', '>=', query.from)
        .where('v.ts', '<', query.to)
        .orderBy('v.ts')
        .limit(query.limit)
        .execute(),
    );
    return rows.map((row) => ({ ts: Number(row.ts), value: Number(row.value) }));
  }

  /**
   * The newest point of every series of the device, read from raw points through the series
   * index (the catalogue row may be up to a minute behind); a series whose raw points are past
   * retention answers with the catalogue's value.
   */
  async latest(device: string): Promise<LatestValue[]> {
    const { rows } = await guard('reading latest telemetry', () =>
      sql<{
        metric: string;
        ts: number | string | null;
        value: number | null;
        cat_ts: number | string;
        cat_value: number;
      }>`
        select x.metric, x.ts, x.cat_ts, x.cat_value,
          (select max(p.value) from telemetry_values p where p.series_id = x.id and p.ts = x.ts) as value
        from (
          select s.id as id, s.metric as metric, s.ts as cat_ts, s.value as cat_value,
            (select max(q.ts) from telemetry_values q where q.series_id = s.id) as ts
          from telemetry_series s where s.device = ${device}
        ) x
        order by x.metric`.execute(this.#engine.db),
    );
    return rows.map((row) =>
      row.ts === null || row.value === null
        ? { metric: row.metric, ts: Number(row.cat_ts), value: Number(row.cat_value) }
        : { metric: row.metric, ts: Number(row.ts), value: Number(row.value) },
    );
  }

  async samples(query: SampleQuery): Promise<StoredSample[]> {
    const rows = await guard('reading telemetry samples', () =>
      this.#engine.db
        .selectFrom('telemetry_samples')
        .select(['ts', 'data'])
        .where('device', '=', query.device)
        .where('name', '=', query.name)
        .where('ts', '>=', query.from)
        .where('ts', '<', query.to)
        .orderBy('ts')
        .limit(query.limit)
        .execute(),
    );
    return rows.map((row) => ({ ts: Number(row.ts), data: JSON.parse(row.data) as unknown }));
  }
}
