import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { sharedSchemas } from '../schemas.js';

export const DOCS_PREFIX = '/api/docs';

/**
 * OpenAPI generated from the route schemas: the UI at /api/docs and the document at
 * /api/docs/json. Must be registered before the routes it describes.
 */
export async function registerDocs(app: FastifyInstance, options: { version: string }): Promise<void> {
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Flotilla hub API',
        description:
          'Device registry, event log and health of a Flotilla hub. Send `Authorization: Bearer <token>` ' +
          '(from /api/v1/auth/login or an `flt_` API token). Errors are `{"error":{"code","message"}}` ' +
          'with a 4xx/5xx status; docs/api.md lists every code. Live updates: WebSocket `/ws/client`.',
        version: options.version,
      },
      tags: [
        { name: 'devices', description: 'The device registry' },
        { name: 'events', description: 'The append-only event log' },
        { name: 'telemetry', description: 'Stored telemetry: raw points, rollups, latest values, fleet aggregates' },
        { name: 'system', description: 'Health, readiness and metrics' },
        { name: 'auth', description: 'Login, refresh and logout (docs/security.md)' },
        { name: 'users', description: 'User accounts and their roles' },
        { name: 'tokens', description: 'API tokens for automation' },
      ],
    },
    // Shared schemas appear under their own names (`Device`, `Event`) instead of `def-0`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}
