import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { LOG_LEVEL_VALUES, matchesSelector, parseSelector } from '@flotilla/protocol';
import { decodeLogCursor, encodeLogCursor } from '../http/cursor.js';
import { ApiError, ApiErrors } from '../http/errors.js';
import { Cursor, DeviceIdParam, ErrorRef, Limit, commonErrorResponses } from '../http/schemas.js';
import { parseTime } from '../http/time.js';
import type { Registry } from '../registry/registry.js';
import type { LogQuery, LogStore } from '../storage/logs.js';
import { Level, LogLineBody, logLineView } from './view.js';

const TIME = 'ISO 8601 date-time (`2024-05-01T12:00:00Z`) or milliseconds since the epoch';
/** Devices one fleet query may name with `device`. */
const MAX_DEVICES = 100;

const filters = {
  level: Type.Optional({ ...Level, description: 'Minimum level: `warn` gives warn, error and fatal lines' }),
  text: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'Case-insensitive text the message contains' }),
  ),
  since: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: `Inclusive lower bound on the line's ts: ${TIME}` }),
  ),
  until: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: `Exclusive upper bound on the line's ts: ${TIME}` }),
  ),
  order: Type.Optional(
    Type.Unsafe<'asc' | 'desc'>({
      type: 'string',
      enum: ['asc', 'desc'],
      default: 'desc',
      description: 'By the order the hub stored the lines in: `desc` (default) gives the newest first',
    }),
  ),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
};

const DeviceLogsQuery = Type.Object(filters, { additionalProperties: false });

const FleetLogsQuery = Type.Object(
  {
    device: Type.Optional(
      Type.Array(DeviceIdParam, { maxItems: MAX_DEVICES, description: 'Only these devices; may repeat' }),
    ),
    selector: Type.Optional(
      Type.String({
        maxLength: 4096,
        description: 'Only devices whose labels match (`site=lab,zone in (a,b),!gpu`)',
      }),
    ),
    type: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Only devices of this type, e.g. `lekiwi`' }),
    ),
    ...filters,
  },
  { additionalProperties: false },
);

const LogList = Type.Object(
  {
    items: Type.Array(LogLineBody),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last' }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: DeviceIdParam }, { additionalProperties: false });

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTime(value);
  if (ms === undefined) throw new ApiError(ApiErrors.BAD_REQUEST, `querystring/${name} must be ${TIME}`);
  return ms;
}

type Filters = Static<typeof DeviceLogsQuery>;

function logQuery(query: Filters, devices: readonly string[] | undefined): LogQuery {
  const since = time('since', query.since);
  const until = time('until', query.until);
  if (since !== undefined && until !== undefined && since >= until)
    throw new ApiError(ApiErrors.BAD_REQUEST, 'querystring/since must be before until');
  const out: LogQuery = { order: query.order ?? 'desc', limit: (query.limit ?? 100) + 1 };
  if (devices !== undefined) out.devices = devices;
  if (query.level !== undefined) out.minLevel = LOG_LEVEL_VALUES[query.level];
  if (query.text !== undefined) out.text = query.text;
  if (since !== undefined) out.from = since;
  if (until !== undefined) out.to = until;
  if (query.cursor !== undefined) out.cursor = decodeLogCursor(query.cursor);
  return out;
}

export function registerLogRoutes(app: FastifyInstance, deps: { registry: Registry; store: LogStore }): void {
  const { registry, store } = deps;

  // One more line than asked tells whether another page exists without a second query.
  const page = async (query: LogQuery, limit: number) => {
    const lines = await store.read(query);
    const more = lines.length > limit;
    const items = (more ? lines.slice(0, limit) : lines).map(logLineView);
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? encodeLogCursor(last.id) : null };
  };

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeviceLogsQuery> }>(
    '/api/v1/devices/:id/logs',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['logs'],
        summary: "A device's log lines, newest first, filtered by level, text and time (docs/logs.md)",
        params: IdParams,
        querystring: DeviceLogsQuery,
        response: { 200: LogList, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!registry.get(id)) throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${id}`);
      return page(logQuery(request.query, [id]), request.query.limit ?? 100);
    },
  );

  app.get<{ Querystring: Static<typeof FleetLogsQuery> }>(
    '/api/v1/logs',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['logs'],
        summary: 'Log lines of the fleet, or of the devices matching a label selector, type or list (docs/logs.md)',
        querystring: FleetLogsQuery,
        response: { 200: LogList, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      let devices: string[] | undefined =
        query.device && query.device.length > 0 ? [...new Set(query.device)] : undefined;
      if (query.selector !== undefined || query.type !== undefined) {
        const parsed = parseSelector(query.selector ?? '');
        if (!parsed.ok) throw new ApiError(ApiErrors.BAD_SELECTOR, `selector: ${parsed.message}`);
        const named = devices && new Set(devices);
        devices = registry
          .list()
          .filter((d) => query.type === undefined || d.type === query.type)
          .filter((d) => matchesSelector(parsed.requirements, d.labels))
          .filter((d) => !named || named.has(d.id))
          .map((d) => d.id);
      }
      return page(logQuery(query, devices), query.limit ?? 100);
    },
  );
}
