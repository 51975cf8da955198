import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HubMetrics } from '../../metrics.js';

/** Prometheus scrape endpoint over the hub's one metrics registry. */
export function registerMetricsRoute(app: FastifyInstance, deps: { metrics: HubMetrics }): void {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }) },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
}
