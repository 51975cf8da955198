import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Clock } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { commonErrorResponses } from '../http/schemas.js';
import { parseTime } from '../http/time.js';
import type { FleetHealthStore } from '../storage/fleet-health.js';

const TIME = 'ISO 8601 date-time (`2024-05-01T12:00:00Z`) or milliseconds since the epoch';
const DEFAULT_RANGE_MS = 3_600_000;
/** A day of samples at the default interval (30 s) is 2,880. */
const DEFAULT_LIMIT = 5_000;
const MAX_LIMIT = 20_000;

const TimeParam = (what: string) => Type.String({ minLength: 1, maxLength: 64, description: `${what}: ${TIME}` });

const HealthQuery = Type.Object(
  {
    from: Type.Optional(TimeParam('Inclusive start (default: an hour before `to`)')),
    to: Type.Optional(TimeParam('Exclusive end (default: now)')),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT,
        description: `The newest samples of the range, at most this many (default ${DEFAULT_LIMIT})`,
      }),
    ),
  },
  { additionalProperties: false },
);

const Sample = Type.Object(
  {
    ts: Type.Number({ description: 'When the hub counted (ms)' }),
    online: Type.Integer(),
    offline: Type.Integer(),
    alerting: Type.Integer({ description: 'Devices with an open (firing or acknowledged) alert' }),
  },
  { additionalProperties: false },
);

const HealthBody = Type.Object(
  {
    from: Type.Number(),
    to: Type.Number(),
    intervalMs: Type.Integer({ description: 'How often the hub samples' }),
    points: Type.Array(Sample, { description: 'Oldest first' }),
    truncated: Type.Boolean({ description: 'Older samples than the first lie in the range (raise `limit`)' }),
  },
  { additionalProperties: false },
);

function time(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseTime(value);
  if (ms === undefined) throw new ApiError(ApiErrors.BAD_REQUEST, `querystring/${name} must be ${TIME}`);
  return ms;
}

export function registerFleetRoutes(
  app: FastifyInstance,
  deps: { store: Pick<FleetHealthStore, 'range'>; clock: Clock; intervalMs: number },
): void {
  const { store, clock, intervalMs } = deps;
  app.get<{ Querystring: Static<typeof HealthQuery> }>(
    '/api/v1/fleet/health',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'The fleet’s online, offline and alerting counts over time, as the hub sampled them',
        querystring: HealthQuery,
        response: { 200: HealthBody, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const to = time('to', query.to, clock.now());
      const from = time('from', query.from, to - DEFAULT_RANGE_MS);
      if (from >= to) throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/from must be before to');
      const limit = query.limit ?? DEFAULT_LIMIT;
      // One more than asked says whether older samples were left out, without a count.
      const points = await store.range({ from, to, limit: limit + 1 });
      const truncated = points.length > limit;
      return { from, to, intervalMs, points: truncated ? points.slice(1) : points, truncated };
    },
  );
}
