import type { AggregateRow, TelemetryStore } from '../storage/index.js';
import { HOUR_MS, MINUTE_MS, alignRange, mergeBuckets } from '../telemetry/query.js';
import type { MetricBucket, MetricDevice, MetricStats } from './schema.js';

/**
 * Battery and temperature statistics of a report, read from the telemetry rollups through the
 * telemetry query layer: min / avg / max per device and for the fleet, the devices past a
 * threshold, and one series per chart bucket for the charts.
 */

/** Ranges up to this long are read from the 1 min rollups; longer ones from the 1 h rollups. */
export const MINUTE_ROLLUPS_UP_TO_MS = 2 * 24 * HOUR_MS;
/** Points a chart holds at most. */
const CHART_BUCKETS = 120;
const NICE_BUCKETS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((m) => m * MINUTE_MS);
/**
 * Width of the buckets the statistics query groups by: any multiple of both rollup widths
 * works (the rows are merged per device), and a wide one keeps the rows few.
 */
const STATS_BUCKET_MS = 7 * 24 * HOUR_MS;

export interface TelemetryWindow {
  source: 'rollup_1m' | 'rollup_1h';
  /** [from, to) widened to whole rollup buckets. */
  from: number;
  to: number;
  /** Chart bucket: a multiple of the rollup width. */
  bucketMs: number;
}

/**
 * Which rollups serve [from, to), and the chart bucket: the 1 min rollups for a short range
 * they still hold (`minuteRollupsFrom`: the oldest minute retention keeps), else the 1 h ones.
 */
export function telemetryWindow(from: number, to: number, minuteRollupsFrom = -Infinity): TelemetryWindow {
  const source = to - from <= MINUTE_ROLLUPS_UP_TO_MS && from >= minuteRollupsFrom ? 'rollup_1m' : 'rollup_1h';
  const unit = source === 'rollup_1m' ? MINUTE_MS : HOUR_MS;
  const aligned = alignRange(from, to, unit);
  const span = aligned.to - aligned.from;
  const bucketMs =
    NICE_BUCKETS.find((b) => b % unit === 0 && span / b <= CHART_BUCKETS) ??
    Math.ceil(span / CHART_BUCKETS / unit) * unit;
  return { source, ...aligned, bucketMs };
}

export type Direction = 'below' | 'above';

export async function metricStats(
  store: Pick<TelemetryStore, 'aggregate'>,
  devices: readonly string[],
  metric: string,
  window: TelemetryWindow,
  threshold: number,
  direction: Direction,
): Promise<MetricStats> {
  const base = {
    metric,
    source: window.source,
    from: window.from,
    to: window.to,
    bucketMs: window.bucketMs,
    threshold,
  };
  if (devices.length === 0) return { ...base, ...empty() };
  const totals = await store.aggregate({
    devices,
    metric,
    from: window.from,
    to: window.to,
    bucketMs: STATS_BUCKET_MS,
    source: window.source,
  });
  // Not widened to whole chart buckets: the first and last may be partial, never outside the range.
  const chart = await store.aggregate({
    devices,
    metric,
    from: window.from,
    to: window.to,
    bucketMs: window.bucketMs,
    source: window.source,
  });
  const perDevice = mergeByDevice(totals);
  if (perDevice.length === 0) return { ...base, ...empty() };
  const extreme = (d: MetricDevice): number => (direction === 'below' ? d.min : -d.max);
  perDevice.sort((a, b) => extreme(a) - extreme(b) || (a.device < b.device ? -1 : 1));
  const points = perDevice.reduce((n, d) => n + d.points, 0);
  const sum = perDevice.reduce((s, d) => s + d.avg * d.points, 0);
  return {
    ...base,
    points,
    min: Math.min(...perDevice.map((d) => d.min)),
    avg: sum / points,
    max: Math.max(...perDevice.map((d) => d.max)),
    flagged: perDevice
      .filter((d) => (direction === 'below' ? d.min < threshold : d.max > threshold))
      .map((d) => d.device),
    devices: perDevice,
    series: series(chart),
  };
}

function empty(): Pick<MetricStats, 'points' | 'min' | 'avg' | 'max' | 'flagged' | 'devices' | 'series'> {
  return { points: 0, min: null, avg: null, max: null, flagged: [], devices: [], series: [] };
}

function mergeByDevice(rows: readonly AggregateRow[]): MetricDevice[] {
  const merged = new Map<string, { min: number; max: number; sum: number; count: number }>();
  for (const row of rows) {
    const into = merged.get(row.device);
    if (!into) merged.set(row.device, { min: row.min, max: row.max, sum: row.sum, count: row.count });
    else {
      into.min = Math.min(into.min, row.min);
      into.max = Math.max(into.max, row.max);
      into.sum += row.sum;
      into.count += row.count;
    }
  }
  return [...merged]
    .filter(([, m]) => m.count > 0)
    .map(([device, m]) => ({ device, min: m.min, avg: m.sum / m.count, max: m.max, points: m.count }));
}

/** The fleet per bucket: the lowest, the average of every point, the highest. */
function series(rows: readonly AggregateRow[]): MetricBucket[] {
  const mins = mergeBuckets(rows, 'min');
  const avgs = mergeBuckets(rows, 'avg');
  const maxes = mergeBuckets(rows, 'max');
  return avgs.map((b, i) => ({
    ts: b.ts,
    min: mins[i]?.value ?? b.value,
    avg: b.value,
    max: maxes[i]?.value ?? b.value,
  }));
}
