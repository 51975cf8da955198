import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError, ApiErrors } from '../http/errors.js';
import { ErrorRef } from '../http/schemas.js';
import type { HubTls } from './hub-tls.js';

/**
 * `GET /api/v1/tls/ca`: the CA certificate clients trust the hub with, as PEM. Public: it is no
 * secret, and a device or a provisioning tool needs it before it has any credential. It is a
 * convenience, not a trust anchor: fetched over an unverified connection it proves nothing, so
 * compare its fingerprint (logged by the hub at start) out of band when that matters.
 */
export function registerTlsRoutes(app: FastifyInstance, deps: { tls: HubTls | undefined }): void {
  app.get(
    '/api/v1/tls/ca',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'CA certificate (PEM) that clients verify the hub with',
        produces: ['application/x-pem-file'],
        response: { 200: Type.String({ description: 'PEM' }), 404: ErrorRef },
      },
    },
    async (_request, reply) => {
      if (!deps.tls) throw new ApiError(ApiErrors.TLS_DISABLED);
      if (deps.tls.trust === undefined) throw new ApiError(ApiErrors.TLS_CA_UNAVAILABLE);
      return reply.type('application/x-pem-file').send(deps.tls.trust);
    },
  );
}
