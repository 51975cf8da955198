import { col, insertColumns, type SqlRunner } from './telemetry-insert.js';

/**
 * Series ids (`telemetry_series`, migration 0011), cached in memory. A batch asks for the id of
 * every (device, metric) it writes; a series the cache does not hold, or whose catalogue row was
 * last refreshed more than SERIES_REFRESH_MS of data time ago, is upserted with its newest point
 * (which returns its id), inside the batch's transaction. Everything else is a map lookup.
 *
 * Why a cached id stays valid: retention deletes a series only when its catalogue `ts` is older
 * than every cutoff minus a day (years, by default), while a point the ingest accepts is at most
 * the raw retention old. A point within SERIES_REFRESH_MS of the cached refresh is therefore far
 * from that line; any other point refreshes the row, and the upsert recreates it if it was gone.
 */

/** The catalogue row of a series is rewritten at most once per this much data time. */
export const SERIES_REFRESH_MS = 60_000;
/** Series remembered per process; past it the cache starts over (rows are only looked up again). */
const MAX_CACHED_SERIES = 1_000_000;

const SERIES = [col('device', 'text'), col('metric', 'text'), col('ts', 'int8'), col('value', 'float8')];

interface Cached {
  id: number;
  /** Data time of the point last written to the catalogue row. */
  refreshed: number;
}

/** The newest point of one series in a batch. */
export interface SeriesPoint {
  metric: string;
  ts: number;
  value: number;
  /** Filled by `resolve`. */
  id: number;
}

export class SeriesIds {
  /** device → metric → id and refresh time. Two levels: no key string built per point. */
  #cache = new Map<string, Map<string, Cached>>();
  #size = 0;

  /** What the cache holds for one device's series: look it up once per message, then per point `cachedId`. */
  device(device: string): ReadonlyMap<string, Cached> | undefined {
    return this.#cache.get(device);
  }

  /** The id of the series for a point at `ts`, or undefined when its catalogue row must be upserted first. */
  static cachedId(known: ReadonlyMap<string, Cached> | undefined, metric: string, ts: number): number | undefined {
    const cached = known?.get(metric);
    return cached !== undefined && ts < cached.refreshed + SERIES_REFRESH_MS ? cached.id : undefined;
  }

  /**
   * Upserts every entry of `batch` (device → metric → newest point of the batch of a series the
   * cache could not answer for) and sets its `id`. Returns the entries, to `remember` once committed.
   */
  async resolve(
    runner: SqlRunner,
    batch: Map<string, Map<string, SeriesPoint>>,
  ): Promise<{ device: string; point: SeriesPoint }[]> {
    const upserts: { device: string; point: SeriesPoint }[] = [];
    for (const [device, points] of batch) for (const point of points.values()) upserts.push({ device, point });
    if (upserts.length === 0) return upserts;
    // One order for every writer: two hubs upserting the same series lock their rows alike.
    upserts.sort((a, b) => compare(a.device, b.device) || compare(a.point.metric, b.point.metric));
    const columns: unknown[][] = [[], [], [], []];
    for (const { device, point } of upserts) {
      columns[0]?.push(device);
      columns[1]?.push(point.metric);
      columns[2]?.push(point.ts);
      columns[3]?.push(point.value);
    }
    // The update always happens (greatest/max keeps the newest), so RETURNING yields every row.
    const newest = runner.engine === 'postgres' ? 'greatest' : 'max';
    const rows = await insertColumns(
      runner,
      'telemetry_series',
      SERIES,
      columns,
      `on conflict (device, metric) do update set ts = ${newest}(excluded.ts, telemetry_series.ts), ` +
        'value = case when excluded.ts >= telemetry_series.ts then excluded.value else telemetry_series.value end ' +
        'returning id, device, metric',
    );
    for (const row of rows) {
      const point = batch.get(String(row['device']))?.get(String(row['metric']));
      if (point) point.id = Number(row['id']);
    }
    return upserts;
  }

  /** After the commit: a rolled-back upsert must not be trusted. */
  remember(refreshed: readonly { device: string; point: SeriesPoint }[]): void {
    if (this.#size + refreshed.length > MAX_CACHED_SERIES) {
      this.#cache = new Map();
      this.#size = 0;
    }
    for (const { device, point } of refreshed) {
      let known = this.#cache.get(device);
      if (known === undefined) this.#cache.set(device, (known = new Map()));
      const cached = known.get(point.metric);
      if (cached === undefined) this.#size++;
      if (cached === undefined || point.ts >= cached.refreshed) {
        known.set(point.metric, { id: point.id, refreshed: point.ts });
      }
    }
  }

  /** Forget everything (retention pruned the catalogue). */
  clear(): void {
    this.#cache = new Map();
    this.#size = 0;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
