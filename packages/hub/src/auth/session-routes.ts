import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { eventMetadata } from '../http/request-context.js';
import { ErrorRef, commonErrorResponses } from '../http/schemas.js';
import { TooManyAttemptsError, type Identity } from './identity.js';
import { permissionsOf } from './permissions.js';
import { principalOf } from './plugin.js';
import { UserSchema } from './schemas.js';

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) },
  { additionalProperties: false },
);
const Session = Type.Object(
  {
    token: Type.String({ description: 'JWT access token: send as `Authorization: Bearer <token>`' }),
    refreshToken: Type.String({ description: 'Opaque; exchange at /auth/refresh for a new pair (used up on use)' }),
    expiresIn: Type.Integer({ description: 'Seconds until `token` expires' }),
    user: UserSchema,
  },
  { additionalProperties: false },
);
const Me = Type.Object(
  {
    user: UserSchema,
    actor: Type.String({ description: '`user:<username>` or `token:<id>`, as in event metadata' }),
    role: Type.String({ description: 'The role this request acts with' }),
    permissions: Type.Array(Type.String(), {
      description: 'What that role may do (docs/security.md), so a console shows only what the caller can use',
    }),
  },
  { additionalProperties: false },
);

const auth401 = { 401: ErrorRef };

/** Login, refresh-token rotation, logout and "who am I". */
export function registerSessionRoutes(
  app: FastifyInstance,
  deps: { identity: Identity; accounts: { getUser(id: string): Promise<Static<typeof UserSchema>> } },
): void {
  const { identity } = deps;

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a username and password',
        body: LoginBody,
        response: { 200: Session, ...auth401, 429: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      try {
        return await identity.login(request.body.username, request.body.password, {
          address: request.ip,
          correlationId: request.id,
        });
      } catch (err) {
        if (err instanceof TooManyAttemptsError)
          reply.header('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
        throw err;
      }
    },
  );

  app.post<{ Body: Static<typeof RefreshBody> }>(
    '/api/v1/auth/refresh',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new access token and refresh token',
        body: RefreshBody,
        response: { 200: Session, ...auth401, ...commonErrorResponses },
      },
    },
    async (request) => identity.refresh(request.body.refreshToken),
  );

  app.post<{ Body: Static<typeof LogoutBody> | undefined }>(
    '/api/v1/auth/logout',
    {
      config: { permission: 'tokens:own' },
      schema: {
        tags: ['auth'],
        summary: 'Revoke this access token and, when given, the refresh token',
        body: Type.Optional(LogoutBody),
        response: { 204: Type.Null(), ...auth401, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      await identity.logout(principalOf(request), request.body?.refreshToken, eventMetadata(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      config: { permission: 'tokens:own' },
      schema: {
        tags: ['auth'],
        summary: 'The caller: user, actor, role and its permissions',
        response: { 200: Me, ...auth401, ...commonErrorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        user: await deps.accounts.getUser(principal.userId),
        actor: principal.actor,
        role: principal.role,
        permissions: permissionsOf(principal.role),
      };
    },
  );
}
