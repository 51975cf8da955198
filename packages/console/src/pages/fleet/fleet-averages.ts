import type { FlotillaClient } from '@flotilla/sdk';

/**
 * A fleet average over the overview's window. Buckets of whole minutes come from the hub's
 * rollups, which trail the raw points by up to a maintenance interval (30 s) and are empty on a
 * hub that has just started: the fleet-averages chart stayed blank for the first minute. When
 * the rollups stop more than a bucket short of now, the rest of the window is read from raw
 * points in sub-minute buckets, which the hub aggregates as it reads (docs/api.md, Telemetry).
 */

/** Not a whole number of minutes: answered from raw points. */
const RAW_BUCKET = '10s';
/**
 * The raw tail reaches back at most this far: far more than rollups ever trail a running hub,
 * and a scan of raw points over a long window would cost the hub what rollups are there to save.
 */
const RAW_TAIL_MS = 10 * 60_000;

export interface AveragePoint {
  ts: number;
  value: number;
}

export async function fleetAverage(
  client: FlotillaClient,
  query: { metric: string; from: number; bucket: string },
  signal: AbortSignal,
): Promise<AveragePoint[]> {
  const rolled = await client.fleetTelemetry({ ...query, agg: 'avg' }, { signal });
  const points: AveragePoint[] = rolled.points.map(({ ts, value }) => ({ ts, value }));
  if (rolled.source === 'raw') return points;
  const last = points.at(-1);
  const covered = last ? last.ts + rolled.bucketMs : rolled.from;
  if (rolled.to - covered <= rolled.bucketMs) return points;
  const now = Date.now();
  const from = Math.max(covered, query.from, now - RAW_TAIL_MS);
  if (from >= now) return points;
  const raw = await client.fleetTelemetry(
    { metric: query.metric, from, to: now, bucket: RAW_BUCKET, agg: 'avg' },
    { signal },
  );
  for (const { ts, value } of raw.points) if (ts >= covered) points.push({ ts, value });
  return points;
}
