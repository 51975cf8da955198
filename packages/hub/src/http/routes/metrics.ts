import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HubMetrics } from '../../metrics.js';

/** Prometheus scrape endpoint over the hub's one metrics registry. */
/**
 * Needs `metrics:read` unless the hub runs with `metricsPublic` (`--metrics-public`), for a
 * Prometheus that cannot send a bearer token; keep such a hub's /metrics off the public network.
 */
export function registerMetricsRoute(
  app: FastifyInstance,
  deps: { metrics: HubMetrics; metricsPublic?: boolean },
): void {
  app.get(
    '/metrics',
    {
      config: deps.metricsPublic === true ? { public: true } : { permission: 'metrics:read' },
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
