import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventMetadata } from '@flotilla/protocol';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is making the request, as recorded in event metadata. `api:anonymous` until the
     * identity issue adds users and tokens: its auth hook sets this instead.
     */
    actor: string;
  }
}

export const ANONYMOUS_ACTOR = 'api:anonymous';
export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller-supplied id is kept only when it is short and plain, since it lands in logs and events. */
const requestIdRe = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids double as correlation ids: an id a caller (or a proxy) sent in `x-request-id` is
 * kept, so one id follows a change through the proxy's logs, the hub's logs and the event log.
 */
export function genRequestId(req: IncomingMessage): string {
  const header = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && requestIdRe.test(value) ? value : randomUUID();
}

export function registerRequestContext(app: FastifyInstance): void {
  app.decorateRequest('actor', ANONYMOUS_ACTOR);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
}

/** Metadata for events a request causes. */
export function eventMetadata(request: FastifyRequest): EventMetadata {
  return { actor: request.actor, correlationId: request.id, causationId: null };
}
