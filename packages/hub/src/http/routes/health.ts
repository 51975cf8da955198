import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Clock } from '@flotilla/protocol';
import type { Storage } from '../../storage/types.js';
import { ApiError, ApiErrors } from '../errors.js';
import { ErrorRef } from '../schemas.js';

export interface HealthDeps {
  storage: Storage;
  clock: Clock;
  version: string;
  startedAt: number;
}

const Health = Type.Object(
  {
    status: Type.Literal('ok'),
    version: Type.String(),
    uptime: Type.Number({ description: 'Seconds since the hub started' }),
  },
  { additionalProperties: false },
);

const Ready = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });

/**
 * Liveness says the process answers; readiness says it can do its job (storage reachable), so
 * an orchestrator restarts on the first and only routes traffic on the second.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get(
    '/api/v1/health',
    {
      config: { public: true },
      schema: { tags: ['system'], summary: 'Liveness', response: { 200: Health } },
    },
    async () => ({ status: 'ok' as const, version: deps.version, uptime: (deps.clock.now() - deps.startedAt) / 1000 }),
  );

  app.get(
    '/api/v1/ready',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Readiness: storage answers',
        response: { 200: Ready, 503: ErrorRef },
      },
    },
    async (request) => {
      let ok = false;
      try {
        ok = await deps.storage.ping();
      } catch (err) {
        request.log.warn({ err }, 'storage ping failed');
      }
      if (!ok) throw new ApiError(ApiErrors.STORAGE_UNAVAILABLE);
      return { status: 'ready' as const };
    },
  );
}
