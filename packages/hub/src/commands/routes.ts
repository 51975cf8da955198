import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { matchesSelector, parseSelector } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { eventMetadata } from '../http/request-context.js';
import { DeviceIdParam, ErrorRef, commonErrorResponses } from '../http/schemas.js';
import type { Registry } from '../registry/registry.js';
import type { CommandRow } from '../storage/commands.js';
import { MAX_COMMAND_TIMEOUT_MS, type CommandService } from './service.js';

const Status = Type.Union(
  ['issued', 'delivered', 'succeeded', 'failed', 'timed_out', 'cancelled'].map((s) => Type.Literal(s)),
  { description: 'issued → delivered → succeeded | failed | timed_out | cancelled' },
);
const ErrorInfo = Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false });

const CommandView = Type.Object(
  {
    id: Type.String(),
    device: Type.String(),
    capability: Type.String({ description: 'as sent to the device (a v1 request to a v2-only device is upcast)' }),
    command: Type.String(),
    args: Type.Record(Type.String(), Type.Unknown()),
    priority: Type.Union([Type.Literal('critical'), Type.Literal('normal')]),
    status: Status,
    result: Type.Optional(Type.Unknown({ description: 'what the device returned' })),
    error: Type.Optional(ErrorInfo),
    timeoutMs: Type.Integer(),
    actor: Type.String(),
    issuedAt: Type.Number(),
    deliveredAt: Type.Union([Type.Number(), Type.Null()]),
    completedAt: Type.Union([Type.Number(), Type.Null()]),
    job: Type.Boolean({ description: 'long-running: reports progress and can be cancelled' }),
    progress: Type.Union([Type.Number(), Type.Null()], { description: '0 … 1 as last reported; null before' }),
    progressMessage: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

const CommandBody = Type.Object(
  {
    capability: Type.String({ minLength: 1, maxLength: 128, description: 'e.g. `hal.v1.motor.differential`' }),
    command: Type.String({ minLength: 1, maxLength: 128, description: 'e.g. `drive`' }),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'checked against the HAL schema' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_COMMAND_TIMEOUT_MS, default: 30_000 })),
  },
  { additionalProperties: false },
);

const BroadcastBody = Type.Composite(
  [
    CommandBody,
    Type.Object({
      selector: Type.String({ minLength: 1, maxLength: 4096, description: 'label selector: `type=lekiwi,site=lab`' }),
    }),
  ],
  { additionalProperties: false },
);

const AsyncQuery = Type.Object(
  {
    async: Type.Optional(
      Type.Boolean({
        description: 'answer 202 once sent, instead of waiting for the result (poll GET /commands/{id})',
      }),
    ),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: DeviceIdParam }, { additionalProperties: false });
const CommandIdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
const BroadcastItem = Type.Object(
  {
    device: Type.String(),
    command: Type.Optional(CommandView),
    error: Type.Optional(ErrorInfo),
  },
  { additionalProperties: false, description: 'one per matching device: its command, or why it got none' },
);

function view(row: CommandRow): Static<typeof CommandView> {
  return {
    id: row.id,
    device: row.deviceId,
    capability: row.capability,
    command: row.command,
    args: row.args,
    priority: row.priority,
    status: row.status,
    ...(row.result !== undefined && { result: row.result }),
    ...(row.error !== null && { error: row.error }),
    timeoutMs: row.timeoutMs,
    actor: row.actor,
    issuedAt: row.issuedAt,
    deliveredAt: row.deliveredAt,
    completedAt: row.completedAt,
    job: row.job,
    progress: row.progress,
    progressMessage: row.progressMessage,
  };
}

const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'told to the device' })) },
  { additionalProperties: false },
);
const JobsQuery = Type.Object(
  {
    open: Type.Optional(Type.Boolean({ description: 'only jobs still running' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

/** Commands over REST: one device, a label selector, and the records. docs/commands.md. */
export function registerCommandRoutes(
  app: FastifyInstance,
  deps: { commands: CommandService; registry: Registry },
): void {
  const { commands, registry } = deps;

  app.post<{
    Params: Static<typeof IdParams>;
    Body: Static<typeof CommandBody>;
    Querystring: Static<typeof AsyncQuery>;
  }>(
    '/api/v1/devices/:id/commands',
    {
      config: { permission: 'commands:send' },
      schema: {
        tags: ['commands'],
        summary: 'Send a command to a device and wait for its result (or 202 with async=true)',
        params: IdParams,
        querystring: AsyncQuery,
        body: CommandBody,
        response: {
          200: CommandView,
          202: CommandView,
          404: ErrorRef,
          409: ErrorRef,
          422: ErrorRef,
          ...commonErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const { capability, command, args = {}, timeoutMs } = request.body;
      const issued = await commands.issue(
        request.params.id,
        { capability, command, args, ...(timeoutMs !== undefined && { timeoutMs }) },
        eventMetadata(request),
      );
      if (request.query.async) return reply.code(202).send(view(issued.row));
      return view(await issued.done);
    },
  );

  app.post<{ Body: Static<typeof BroadcastBody>; Querystring: Static<typeof AsyncQuery> }>(
    '/api/v1/commands',
    {
      config: { permission: 'commands:send' },
      schema: {
        tags: ['commands'],
        summary: 'Send a command to every device matching a label selector; one result per device',
        querystring: AsyncQuery,
        body: BroadcastBody,
        response: { 200: Type.Object({ items: Type.Array(BroadcastItem) }), ...commonErrorResponses },
      },
    },
    async (request) => {
      const { selector, capability, command, args = {}, timeoutMs } = request.body;
      const parsed = parseSelector(selector);
      if (!parsed.ok) throw new ApiError(ApiErrors.BAD_SELECTOR, `selector: ${parsed.message}`);
      const targets = registry.list().filter((d) => matchesSelector(parsed.requirements, d.labels));
      const metadata = eventMetadata(request);
      const items = await Promise.all(
        targets.map(async (device): Promise<Static<typeof BroadcastItem>> => {
          try {
            const issued = await commands.issue(
              device.id,
              { capability, command, args, ...(timeoutMs !== undefined && { timeoutMs }) },
              metadata,
            );
            return { device: device.id, command: view(request.query.async ? issued.row : await issued.done) };
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            return { device: device.id, error: { code: err.code, message: err.message } };
          }
        }),
      );
      return { items };
    },
  );

  app.get<{ Params: Static<typeof CommandIdParams> }>(
    '/api/v1/commands/:id',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['commands'],
        summary: 'One command record',
        params: CommandIdParams,
        response: { 200: CommandView, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => view(await commands.get(request.params.id)),
  );

  app.post<{ Params: Static<typeof CommandIdParams>; Body: Static<typeof CancelBody> | undefined }>(
    '/api/v1/commands/:id/cancel',
    {
      config: { permission: 'commands:send' },
      schema: {
        tags: ['commands'],
        summary: 'Ask the device to stop a running command (202; the record changes when the device answers)',
        params: CommandIdParams,
        body: Type.Optional(CancelBody),
        response: { 202: CommandView, 404: ErrorRef, 409: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const row = await commands.cancel(request.params.id, request.body?.reason, eventMetadata(request));
      return reply.code(202).send(view(row));
    },
  );

  app.get<{ Querystring: Static<typeof JobsQuery> }>(
    '/api/v1/jobs',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['commands'],
        summary: 'Long-running commands (jobs) with their progress, newest first',
        querystring: JobsQuery,
        response: { 200: Type.Object({ items: Type.Array(CommandView) }), ...commonErrorResponses },
      },
    },
    async (request) => ({
      items: (await commands.listJobs({ open: request.query.open ?? false, limit: request.query.limit ?? 100 })).map(
        view,
      ),
    }),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ListQuery> }>(
    '/api/v1/devices/:id/commands',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['commands'],
        summary: 'The device’s latest commands, newest first',
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(CommandView) }), 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => ({
      items: (await commands.listByDevice(request.params.id, request.query.limit ?? 100)).map(view),
    }),
  );
}
