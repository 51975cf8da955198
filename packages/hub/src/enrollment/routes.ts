import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Labels } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../http/errors.js';
import { eventMetadata } from '../http/request-context.js';
import { DeviceIdParam, ErrorRef, commonErrorResponses } from '../http/schemas.js';
import type { DeviceEnrollment } from './service.js';

/**
 * Enrollment tokens and device credentials over REST. Every route needs `enrollment:manage`
 * (admin); the auth hook enforces it from the route config, before the body is validated.
 */

const MAX_EXPIRES_IN_S = 366 * 24 * 3600;

const CreateBody = Type.Object(
  {
    uses: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
        description: 'How many devices may enroll with it; absent or null: unlimited',
      }),
    ),
    expiresIn: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: MAX_EXPIRES_IN_S }), Type.Null()], {
        description: 'Lifetime in seconds; absent or null: never expires',
      }),
    ),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);

const TokenFields = {
  id: Type.String(),
  uses: Type.Union([Type.Integer(), Type.Null()], { description: 'Devices allowed; null: unlimited' }),
  used: Type.Integer({ description: 'Devices enrolled with it so far' }),
  expiresAt: Type.Union([Type.Integer(), Type.Null()], { description: 'Epoch ms; null: never' }),
  labels: Type.Record(Type.String(), Type.String()),
  createdBy: Type.String({ description: 'Actor that created it' }),
  created: Type.Integer(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
};

const TokenInfo = Type.Object(TokenFields, { additionalProperties: false });
const CreatedToken = Type.Object(
  { ...TokenFields, token: Type.String({ description: 'The enrollment token (`fle_…`); shown this once only' }) },
  { additionalProperties: false },
);
const TokenList = Type.Object({ items: Type.Array(TokenInfo) }, { additionalProperties: false });
const TokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const DeviceParams = Type.Object({ id: DeviceIdParam }, { additionalProperties: false });

const manage = { permission: 'enrollment:manage' } as const;

export function registerEnrollmentRoutes(app: FastifyInstance, deps: { enrollment: DeviceEnrollment }): void {
  const { enrollment } = deps;

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/api/v1/enrollment-tokens',
    {
      config: manage,
      schema: {
        tags: ['enrollment'],
        summary: 'Create an enrollment token (the token is in this response only)',
        body: CreateBody,
        response: { 201: CreatedToken, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const { uses, expiresIn, labels } = request.body;
      const created = await enrollment.createToken(
        { uses: uses ?? null, expiresInMs: expiresIn == null ? null : expiresIn * 1000, labels: labels ?? {} },
        eventMetadata(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/enrollment-tokens',
    {
      config: manage,
      schema: {
        tags: ['enrollment'],
        summary: 'List enrollment tokens (never their secrets)',
        response: { 200: TokenList, ...commonErrorResponses },
      },
    },
    async () => ({ items: await enrollment.listTokens() }),
  );

  app.delete<{ Params: Static<typeof TokenParams> }>(
    '/api/v1/enrollment-tokens/:id',
    {
      config: manage,
      schema: {
        tags: ['enrollment'],
        summary: 'Revoke an enrollment token (devices enrolled with it keep their credentials)',
        params: TokenParams,
        response: { 204: Type.Null(), 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      if (!(await enrollment.revokeToken(request.params.id, eventMetadata(request))))
        throw new ApiError(ApiErrors.ENROLLMENT_TOKEN_NOT_FOUND);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Static<typeof DeviceParams> }>(
    '/api/v1/devices/:id/credential',
    {
      config: manage,
      schema: {
        tags: ['enrollment'],
        summary: 'Revoke a device’s credential: its session is cut at once and it is refused until it enrolls again',
        params: DeviceParams,
        response: { 204: Type.Null(), 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      if (!(await enrollment.revokeCredential(request.params.id, eventMetadata(request))))
        throw new ApiError(ApiErrors.CREDENTIAL_NOT_FOUND);
      return reply.code(204).send();
    },
  );
}
