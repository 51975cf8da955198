import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Clock } from '@flotilla/protocol';
import { matchesSelector, parseSelector } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { DeviceIdParam, ErrorRef, commonErrorResponses } from '../http/schemas.js';
import { parseTime } from '../http/time.js';
import type { Registry } from '../registry/registry.js';
import type { TelemetryStore } from '../storage/telemetry-store.js';
import {
  AGGREGATES,
  BUCKET_PATTERN,
  MAX_BUCKETS,
  alignRange,
  mergeBuckets,
  parseBucket,
  sourceFor,
  type Aggregate,
} from './query.js';

const TIME = 'ISO 8601 date-time (`2024-05-01T12:00:00Z`) or milliseconds since the epoch';
const DEFAULT_RANGE_MS = 3_600_000;
const MAX_RAW_POINTS = 10_000;

const Metric = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$',
  description: 'Metric name, e.g. `battery`',
});
const TimeParam = (what: string) => Type.String({ minLength: 1, maxLength: 64, description: `${what}: ${TIME}` });
const Bucket = Type.String({
  pattern: BUCKET_PATTERN,
  description: 'Bucket width: `10s`, `5m`, `1h`, `1d`… (at least 1 s)',
});
const Agg = Type.Unsafe<Aggregate>({
  type: 'string',
  enum: [...AGGREGATES],
  description: 'Aggregate of each bucket (default `avg`; needs `bucket`)',
});

const SeriesQuery = Type.Object(
  {
    metric: Metric,
    from: Type.Optional(TimeParam('Inclusive start (default: an hour before `to`)')),
    to: Type.Optional(TimeParam('Exclusive end (default: now)')),
    bucket: Type.Optional(Bucket),
    agg: Type.Optional(Agg),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_RAW_POINTS,
        description: 'Raw points at most (no bucket); default 1000',
      }),
    ),
  },
  { additionalProperties: false },
);

const FleetQuery = Type.Object(
  {
    metric: Metric,
    selector: Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'Label selector (`site=lab,zone in (a,b),!gpu`); absent: every device',
      }),
    ),
    type: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Only devices of this type, e.g. `lekiwi`' }),
    ),
    from: Type.Optional(TimeParam('Inclusive start (default: an hour before `to`)')),
    to: Type.Optional(TimeParam('Exclusive end (default: now)')),
    bucket: Type.Optional({ ...Bucket, default: '5m' }),
    agg: Type.Optional(Agg),
  },
  { additionalProperties: false },
);

const Source = Type.Union([Type.Literal('raw'), Type.Literal('rollup_1m'), Type.Literal('rollup_1h')], {
  description: 'Where the values came from: raw points, or the 1 min / 1 h rollups',
});
const Point = Type.Object({ ts: Type.Number(), value: Type.Number() }, { additionalProperties: false });
const BucketPoint = Type.Object(
  {
    ts: Type.Number({ description: 'Start of the bucket (ms)' }),
    value: Type.Number(),
    devices: Type.Integer({ description: 'Devices with points in the bucket' }),
  },
  { additionalProperties: false },
);

const SeriesBody = Type.Object(
  {
    device: Type.String(),
    metric: Type.String(),
    from: Type.Number(),
    to: Type.Number(),
    source: Source,
    bucketMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Null for raw points' }),
    agg: Type.Union([Agg, Type.Null()]),
    points: Type.Array(Type.Union([Point, BucketPoint])),
    truncated: Type.Boolean({ description: 'Raw points only: more points than `limit` lie in the range' }),
  },
  { additionalProperties: false },
);

const FleetBody = Type.Object(
  {
    selector: Type.String(),
    metric: Type.String(),
    from: Type.Number(),
    to: Type.Number(),
    source: Source,
    bucketMs: Type.Integer(),
    agg: Agg,
    devices: Type.Integer({ description: 'Devices matching the selector' }),
    points: Type.Array(BucketPoint),
  },
  { additionalProperties: false },
);

const LatestBody = Type.Object(
  {
    device: Type.String(),
    metrics: Type.Record(Type.String(), Point, { description: 'Newest point of every metric, by name' }),
  },
  { additionalProperties: false },
);

const SamplesQuery = Type.Object(
  {
    name: { ...Metric, description: 'Sample name, e.g. `pose`' },
    from: Type.Optional(TimeParam('Inclusive start (default: an hour before `to`)')),
    to: Type.Optional(TimeParam('Exclusive end (default: now)')),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_RAW_POINTS, description: 'Samples at most; default 1000' }),
    ),
  },
  { additionalProperties: false },
);

const SamplesBody = Type.Object(
  {
    device: Type.String(),
    name: Type.String(),
    from: Type.Number(),
    to: Type.Number(),
    samples: Type.Array(Type.Object({ ts: Type.Number(), data: Type.Unknown() }, { additionalProperties: false })),
    truncated: Type.Boolean({ description: 'More samples than `limit` lie in the range' }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: DeviceIdParam }, { additionalProperties: false });

export interface TelemetryRouteDeps {
  registry: Registry;
  store: TelemetryStore;
  clock: Clock;
}

function time(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseTime(value);
  if (ms === undefined) throw new ApiError(ApiErrors.BAD_REQUEST, `querystring/${name} must be ${TIME}`);
  return ms;
}

function range(query: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const to = time('to', query.to, now);
  const from = time('from', query.from, to - DEFAULT_RANGE_MS);
  if (from >= to) throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/from must be before to');
  return { from, to };
}

function bucketOf(text: string): { bucketMs: number } {
  const bucketMs = parseBucket(text);
  if (bucketMs === undefined) {
    throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/bucket must be at least 1s (`10s`, `5m`, `1h`, `1d`)');
  }
  return { bucketMs };
}

function checkBuckets(from: number, to: number, bucketMs: number): void {
  const buckets = (to - from) / bucketMs;
  if (buckets > MAX_BUCKETS) {
    throw new ApiError(
      ApiErrors.TOO_MANY_BUCKETS,
      `the range holds ${Math.ceil(buckets)} buckets, more than ${MAX_BUCKETS}: use a wider bucket or a shorter range`,
    );
  }
}

export function registerTelemetryRoutes(app: FastifyInstance, deps: TelemetryRouteDeps): void {
  const { registry, store, clock } = deps;
  const known = (id: string): void => {
    if (!registry.get(id)) throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${id}`);
  };

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof SeriesQuery> }>(
    '/api/v1/devices/:id/telemetry',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['telemetry'],
        summary: 'One metric of a device over time: raw points, or aggregated per bucket (docs/telemetry.md)',
        params: IdParams,
        querystring: SeriesQuery,
        response: { 200: SeriesBody, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const query = request.query;
      known(id);
      const requested = range(query, clock.now());
      if (query.bucket === undefined) {
        if (query.agg !== undefined) throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/agg needs a bucket');
        const limit = query.limit ?? 1000;
        const points = await store.points({ device: id, metric: query.metric, ...requested, limit: limit + 1 });
        return {
          device: id,
          metric: query.metric,
          ...requested,
          source: 'raw' as const,
          bucketMs: null,
          agg: null,
          points: points.slice(0, limit),
          truncated: points.length > limit,
        };
      }
      if (query.limit !== undefined)
        throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/limit is for raw points only');
      const { bucketMs } = bucketOf(query.bucket);
      const { from, to } = alignRange(requested.from, requested.to, bucketMs);
      checkBuckets(from, to, bucketMs);
      const agg = query.agg ?? 'avg';
      const source = sourceFor(bucketMs);
      const rows = await store.aggregate({ devices: [id], metric: query.metric, from, to, bucketMs, source });
      return {
        device: id,
        metric: query.metric,
        from,
        to,
        source,
        bucketMs,
        agg,
        points: mergeBuckets(rows, agg),
        truncated: false,
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/devices/:id/telemetry/latest',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['telemetry'],
        summary: 'The newest value of every metric of a device',
        params: IdParams,
        response: { 200: LatestBody, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      known(id);
      const metrics: Record<string, { ts: number; value: number }> = {};
      for (const { metric, ts, value } of await store.latest(id)) metrics[metric] = { ts, value };
      return { device: id, metrics };
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof SamplesQuery> }>(
    '/api/v1/devices/:id/telemetry/samples',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['telemetry'],
        summary: 'Structured samples (pose, servo arrays) of a device by name, oldest first',
        params: IdParams,
        querystring: SamplesQuery,
        response: { 200: SamplesBody, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const query = request.query;
      known(id);
      const { from, to } = range(query, clock.now());
      const limit = query.limit ?? 1000;
      const samples = await store.samples({ device: id, name: query.name, from, to, limit: limit + 1 });
      return {
        device: id,
        name: query.name,
        from,
        to,
        samples: samples.slice(0, limit),
        truncated: samples.length > limit,
      };
    },
  );

  app.get<{ Querystring: Static<typeof FleetQuery> }>(
    '/api/v1/telemetry',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['telemetry'],
        summary: 'One metric aggregated per bucket over the devices matching a label selector and type',
        querystring: FleetQuery,
        response: { 200: FleetBody, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const selector = query.selector ?? '';
      const parsed = parseSelector(selector);
      if (!parsed.ok) throw new ApiError(ApiErrors.BAD_SELECTOR, `selector: ${parsed.message}`);
      const requested = range(query, clock.now());
      const { bucketMs } = bucketOf(query.bucket ?? '5m');
      const { from, to } = alignRange(requested.from, requested.to, bucketMs);
      checkBuckets(from, to, bucketMs);
      const agg = query.agg ?? 'avg';
      const source = sourceFor(bucketMs);
      const devices = registry
        .list()
        .filter((device) => query.type === undefined || device.type === query.type)
        .filter((device) => matchesSelector(parsed.requirements, device.labels))
        .map((device) => device.id);
      const rows =
        devices.length === 0
          ? []
          : await store.aggregate({ devices, metric: query.metric, from, to, bucketMs, source });
      return {
        selector,
        metric: query.metric,
        from,
        to,
        source,
        bucketMs,
        agg,
        devices: devices.length,
        points: mergeBuckets(rows, agg),
      };
    },
  );
}
