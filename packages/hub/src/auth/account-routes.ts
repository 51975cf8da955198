import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { eventMetadata } from '../http/request-context.js';
import { ErrorRef, commonErrorResponses } from '../http/schemas.js';
import type { Accounts } from './accounts.js';
import { principalOf } from './plugin.js';
import { RoleSchema, TokenSchema, UserSchema, Username } from './schemas.js';

const Password = Type.String({ minLength: 8, maxLength: 1024 });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const NewUserBody = Type.Object(
  { username: Username, password: Password, role: RoleSchema },
  { additionalProperties: false },
);
const UserPatchBody = Type.Object(
  { role: Type.Optional(RoleSchema), password: Type.Optional(Password), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const NewTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    role: Type.Optional(RoleSchema),
    expiresIn: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 365 * 86400, description: 'Seconds' })),
  },
  { additionalProperties: false },
);
const TokenListQuery = Type.Object(
  { all: Type.Optional(Type.Boolean({ description: "Everyone's tokens (needs tokens:manage)" })) },
  { additionalProperties: false },
);
const CreatedToken = Type.Object(
  {
    ...TokenSchema.properties,
    token: Type.String({ description: 'The secret (`flt_…`): shown in this response only' }),
  },
  { additionalProperties: false },
);

const errors = { 401: ErrorRef, 403: ErrorRef, 404: ErrorRef, ...commonErrorResponses };

/** `/api/v1/users` (users:manage) and `/api/v1/tokens` (tokens:own; tokens:manage for everyone's). */
export function registerAccountRoutes(app: FastifyInstance, deps: { accounts: Accounts }): void {
  const { accounts } = deps;

  app.get(
    '/api/v1/users',
    {
      config: { permission: 'users:manage' },
      schema: { tags: ['users'], summary: 'List users', response: { 200: Type.Array(UserSchema), ...errors } },
    },
    async () => accounts.listUsers(),
  );

  app.post<{ Body: Static<typeof NewUserBody> }>(
    '/api/v1/users',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: NewUserBody,
        response: { 201: UserSchema, 409: ErrorRef, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await accounts.createUser(request.body, eventMetadata(request))),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/users/:id',
    {
      config: { permission: 'users:manage' },
      schema: { tags: ['users'], summary: 'One user', params: IdParams, response: { 200: UserSchema, ...errors } },
    },
    async (request) => accounts.getUser(request.params.id),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UserPatchBody> }>(
    '/api/v1/users/:id',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: "Change a user's role or password, or disable them (ends their sessions)",
        params: IdParams,
        body: UserPatchBody,
        response: { 200: UserSchema, ...errors },
      },
    },
    async (request) => accounts.updateUser(request.params.id, request.body, eventMetadata(request)),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/users/:id',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user with their API tokens and sessions',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await accounts.deleteUser(request.params.id, eventMetadata(request));
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Static<typeof NewTokenBody> }>(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens:own' },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token for yourself (role up to your own); the secret is shown once',
        body: NewTokenBody,
        response: { 201: CreatedToken, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await accounts.createToken(principalOf(request), request.body, eventMetadata(request))),
  );

  app.get<{ Querystring: Static<typeof TokenListQuery> }>(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens:own' },
      schema: {
        tags: ['tokens'],
        summary: "Your API tokens (or everyone's with `all=true`), without secrets",
        querystring: TokenListQuery,
        response: { 200: Type.Array(TokenSchema), ...errors },
      },
    },
    async (request) => accounts.listTokens(principalOf(request), request.query.all === true),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/tokens/:id',
    {
      config: { permission: 'tokens:own' },
      schema: {
        tags: ['tokens'],
        summary: "Revoke an API token (yours, or anyone's with tokens:manage)",
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await accounts.revokeToken(principalOf(request), request.params.id, eventMetadata(request));
      return reply.code(204).send();
    },
  );
}
