import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError, ApiErrors } from '../errors.js';

/** Where the console's hashed bundles are served; public, like the page that loads them. */
export const CONSOLE_ASSETS_PREFIX = '/assets/';

/**
 * Paths the console never owns: an unknown URL under them is the API's 404, not the app's page
 * (a mistyped `GET /api/v1/devicez` must not answer 200 with HTML).
 */
const SERVER_PREFIXES = ['/api/', '/ws/', '/mqtt', '/metrics', CONSOLE_ASSETS_PREFIX];

/**
 * The web console (packages/console, built by Vite into `dir`): `index.html` at `/` and at every
 * other path the single-page app routes itself (`/devices/robot-7`, `/alerts`), and the hashed
 * bundles under `/assets/`, cached for good. Everything here is public: the app signs in over the
 * API, which guards the data.
 */
export async function registerConsoleRoutes(app: FastifyInstance, dir: string): Promise<void> {
  // Read once (resolveConfig checked it exists): the page is small and changes only with a new
  // build, which a restart picks up.
  const index = readFileSync(join(dir, 'index.html'));

  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: CONSOLE_ASSETS_PREFIX,
    // One route per file found now, not a wildcard: the wildcard below stays the app's fallback.
    wildcard: false,
    // Vite names bundles after their content, so a cached copy is never stale.
    immutable: true,
    maxAge: '365d',
    // The build writes .br and .gz beside each bundle.
    preCompressed: true,
    decorateReply: false,
    schemaHide: true,
  });

  const page = {
    config: { public: true },
    schema: { hide: true },
  } as const;
  app.get('/', page, async (_request, reply) => sendIndex(reply, index));
  app.get('/*', page, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (SERVER_PREFIXES.some((prefix) => path.startsWith(prefix) || `${path}/` === prefix)) {
      throw new ApiError(ApiErrors.NOT_FOUND, `no route for ${request.method} ${path}`);
    }
    return sendIndex(reply, index);
  });
}

function sendIndex(reply: FastifyReply, index: Buffer): FastifyReply {
  // The page names the current bundles: always revalidated, so a new build is picked up at once.
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
}
