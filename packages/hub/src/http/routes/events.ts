import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Storage } from '../../storage/types.js';
import { decodeEventCursor, encodeEventCursor } from '../cursor.js';
import { ApiError, ApiErrors } from '../errors.js';
import { Cursor, DeviceIdParam, EventRef, Limit, commonErrorResponses } from '../schemas.js';
import { parseTime } from '../time.js';

const TIME_DESCRIPTION = 'ISO 8601 date-time (`2024-05-01T12:00:00Z`) or milliseconds since the epoch';

const ListQuery = Type.Object(
  {
    device: Type.Optional({ ...DeviceIdParam, description: 'Only events of this device' }),
    type: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
        maxItems: 32,
        description: 'Event type(s); may repeat or be a comma-separated list',
      }),
    ),
    since: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: `Inclusive lower bound: ${TIME_DESCRIPTION}` }),
    ),
    until: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: `Exclusive upper bound: ${TIME_DESCRIPTION}` }),
    ),
    actor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Who caused the event (`api:anonymous`, `device:robot-7`…)',
      }),
    ),
    order: Type.Optional(
      Type.Unsafe<'asc' | 'desc'>({
        type: 'string',
        enum: ['asc', 'desc'],
        default: 'asc',
        description: 'By log position',
      }),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

const EventList = Type.Object(
  {
    items: Type.Array(EventRef),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last' }),
  },
  { additionalProperties: false },
);

const eventTypeRe = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

function parseTypes(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const types = new Set<string>();
  for (const value of values) {
    for (const part of value.split(',')) {
      const t = part.trim();
      if (t === '') continue;
      if (!eventTypeRe.test(t)) {
        throw new ApiError(ApiErrors.BAD_REQUEST, `querystring/type: invalid event type ${JSON.stringify(t)}`);
      }
      types.add(t);
    }
  }
  return types.size > 0 ? [...types] : undefined;
}

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTime(value);
  if (ms === undefined) throw new ApiError(ApiErrors.BAD_REQUEST, `querystring/${name} must be ${TIME_DESCRIPTION}`);
  return ms;
}

export function registerEventRoutes(app: FastifyInstance, deps: { storage: Storage }): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/events',
    {
      config: { permission: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'Read the event log',
        querystring: ListQuery,
        response: { 200: EventList, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const limit = query.limit ?? 100;
      const since = time('since', query.since);
      const until = time('until', query.until);
      const cursor = query.cursor === undefined ? undefined : decodeEventCursor(query.cursor);
      // One more than asked tells whether another page exists without a second query.
      const events = await deps.storage.readEvents({
        aggregateId: query.device,
        types: parseTypes(query.type),
        actor: query.actor,
        since,
        until,
        cursor,
        order: query.order ?? 'asc',
        limit: limit + 1,
      });
      const more = events.length > limit;
      const items = more ? events.slice(0, limit) : events;
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeEventCursor(last.position) : null };
    },
  );
}
