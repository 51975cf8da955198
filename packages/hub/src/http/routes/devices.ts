import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { parseSelector, type Requirement } from '@flotilla/protocol';
import type { Registry } from '../../registry/registry.js';
import { decodeDeviceCursor, encodeDeviceCursor } from '../cursor.js';
import { ApiError, ApiErrors } from '../errors.js';
import { eventMetadata } from '../request-context.js';
import { Cursor, DeviceIdParam, DeviceRef, ErrorRef, LabelPatch, Limit, commonErrorResponses } from '../schemas.js';

const ListQuery = Type.Object(
  {
    online: Type.Optional(Type.Boolean({ description: 'Only devices that are (true) or are not (false) connected' })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Device type, e.g. `lekiwi`' })),
    teleoperated: Type.Optional(
      Type.Boolean({ description: 'Only devices that are (true) or are not (false) being teleoperated' }),
    ),
    label: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        maxItems: 32,
        description: 'Label selector (`site=lab,zone in (a,b),!gpu`); may repeat, all must hold',
      }),
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Case-insensitive text in id, name, hostname, serial or model',
      }),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

const DeviceList = Type.Object(
  {
    items: Type.Array(DeviceRef),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null on the last' }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: DeviceIdParam }, { additionalProperties: false });

const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    labels: Type.Optional(LabelPatch),
  },
  {
    additionalProperties: false,
    description: 'Fields to change. `labels` is merged into the existing labels; a `null` value removes that label.',
  },
);

const notFound = { 404: ErrorRef };

function parseLabelSelectors(selectors: readonly string[] | undefined): Requirement[] | undefined {
  if (!selectors || selectors.length === 0) return undefined;
  const requirements: Requirement[] = [];
  for (const selector of selectors) {
    const parsed = parseSelector(selector);
    if (!parsed.ok) throw new ApiError(ApiErrors.BAD_SELECTOR, `label: ${parsed.message}`);
    requirements.push(...parsed.requirements);
  }
  return requirements;
}

export function registerDeviceRoutes(app: FastifyInstance, deps: { registry: Registry }): void {
  const { registry } = deps;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/devices',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'List devices, ordered by id',
        querystring: ListQuery,
        response: { 200: DeviceList, ...commonErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const requirements = parseLabelSelectors(query.label);
      const afterId = query.cursor === undefined ? undefined : decodeDeviceCursor(query.cursor);
      const page = registry.query({
        online: query.online,
        type: query.type,
        teleoperated: query.teleoperated,
        requirements,
        q: query.q,
        afterId,
        limit: query.limit ?? 100,
      });
      return { items: page.items, nextCursor: page.nextId === null ? null : encodeDeviceCursor(page.nextId) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'One device',
        params: IdParams,
        response: { 200: DeviceRef, ...notFound, ...commonErrorResponses },
      },
    },
    async (request) => {
      const device = registry.get(request.params.id);
      if (!device) throw new ApiError(ApiErrors.DEVICE_NOT_FOUND, `no device ${request.params.id}`);
      return device;
    },
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices:write' },
      schema: {
        tags: ['devices'],
        summary: 'Rename a device or change its labels',
        params: IdParams,
        body: PatchBody,
        response: { 200: DeviceRef, ...notFound, ...commonErrorResponses },
      },
    },
    async (request) => registry.update(request.params.id, request.body, eventMetadata(request)),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices:write' },
      schema: {
        tags: ['devices'],
        summary: 'Decommission a device: disconnect it and remove it from the registry',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Decommissioned' }), ...notFound, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      await registry.decommission(request.params.id, eventMetadata(request));
      return reply.code(204).send();
    },
  );
}
