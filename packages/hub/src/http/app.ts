import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/protocol';
import { agentWebSocketServerOptions } from '../gateway/ws-agent.js';
import type { HubMetrics } from '../metrics.js';
import type { Registry } from '../registry/registry.js';
import type { Storage } from '../storage/types.js';
import { registerAccountRoutes } from '../auth/account-routes.js';
import type { Accounts } from '../auth/accounts.js';
import type { Identity } from '../auth/identity.js';
import { registerAuth } from '../auth/plugin.js';
import type { RequestLimiter } from '../auth/request-limiter.js';
import { registerSessionRoutes } from '../auth/session-routes.js';
import { AGENT_WS_PATH } from '../gateway/ws-agent.js';
import { ApiErrors } from './errors.js';
import { errorBody, formatSchemaErrors, registerErrorHandling } from './error-handler.js';
import { counter, histogram } from './instruments.js';
import { genRequestId, registerRequestContext } from './request-context.js';
import { buildValidator } from './validation.js';
import { DOCS_PREFIX, registerDocs } from './routes/docs.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerHomeRoute } from './routes/home.js';
import { CONSOLE_ASSETS_PREFIX, registerConsoleRoutes } from './routes/console.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerSchemaRoutes } from './routes/schemas.js';

export interface AppDeps {
  registry: Registry;
  storage: Storage;
  metrics: HubMetrics;
  clock: Clock;
  logger: Logger;
  /** Hub version reported by health and the docs. */
  version: string;
  /** When the hub started (clock ms), for `uptime`. */
  startedAt: number;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  bodyLimit?: number;
  identity: Identity;
  accounts: Accounts;
  /** Requests per API token; absent: unlimited. */
  requestLimiter?: RequestLimiter;
  /** Serve /metrics without a token. */
  metricsPublic?: boolean;
  /**
   * Serve HTTPS with this key and certificate; client certificates are requested and verified
   * against `ca`, but optional (devices enroll without one; docs/security.md).
   */
  https?: { key: string; cert: string; ca: string };
  /** The built web console to serve at `/`; absent: the landing page. */
  consoleDir?: string | undefined;
}

/** Requests polled by load balancers and Prometheus are logged at debug, not info. */
const quietRoutes = new Set(['/api/v1/health', '/api/v1/ready', '/metrics']);

/**
 * Builds the hub's HTTP app: logging with correlation ids, one error shape, the REST routes with
 * their schemas (from which /api/docs is generated), /metrics, and WebSocket support shared by
 * `/ws/agent` and `/ws/client`, which the caller registers on the returned instance.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: genRequestId,
    requestIdHeader: false,
    // One log line per request, written in onResponse below with the route and duration.
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    ...(deps.https && {
      https: { ...deps.https, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const },
    }),
    // Device ids are up to 128 characters; the default limit of 100 would turn long ids into 404s.
    routerOptions: { maxParamLength: 512 },
    schemaController: { compilersFactory: { buildValidator } },
    schemaErrorFormatter: formatSchemaErrors,
    // Our own onRequest hook answers in the API's error shape while closing.
    return503OnClosing: false,
    // Errors fastify meets before routing (a malformed URL encoding) get the same body shape.
    frameworkErrors: (error, _request, reply) => {
      (reply as FastifyReply).code(400).send(errorBody(ApiErrors.BAD_REQUEST.code, error.message));
    },
    // Typed with pino's Logger the instance would not fit the plain FastifyInstance that every
    // plugin and route module takes; the logger is the same object either way.
  }) as unknown as FastifyInstance;

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      return reply.code(503).send(errorBody(ApiErrors.SHUTTING_DOWN.code, ApiErrors.SHUTTING_DOWN.message));
    }
    return undefined;
  });

  // A POST without a body (`curl -X POST …/cancel`) is an empty object: routes whose body is all
  // optional work without one, and the others name the missing property instead of "body must be object".
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });

  registerRequestContext(app);
  registerErrorHandling(app);
  // The API speaks JSON only; a text body is an unsupported media type (415), not a body that
  // fails the schema.
  app.removeContentTypeParser('text/plain');

  const duration = histogram(
    deps.metrics.registry,
    'flotilla_http_request_duration_seconds',
    'HTTP request duration by method, route and status',
    ['method', 'route', 'status'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  app.addHook('onResponse', async (request, reply) => {
    // Unmatched URLs share one label value: raw URLs as labels would let any client grow the
    // series count without bound.
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    const line = {
      method: request.method,
      // A WebSocket client may carry its token in the query (browsers cannot set headers).
      url: request.url.replace(/([?&]access_token=)[^&]*/g, '$1[redacted]'),
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (quietRoutes.has(route) && reply.statusCode < 400) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  // One WebSocket server for `/ws/agent` and `/ws/client`, with the agent protocol's frame limit
  // enforced by ws itself before a frame is buffered.
  await app.register(fastifyWebsocket, { options: agentWebSocketServerOptions });
  // After the WebSocket plugin: its own onRequest hook must run first, or a refused upgrade's
  // socket would never be destroyed.
  registerAuth(app, {
    identity: deps.identity,
    // The docs UI's routes come from a plugin that cannot declare them; devices authenticate in
    // their `hello` frame on /ws/agent, not with a bearer token.
    publicPrefixes: [DOCS_PREFIX, AGENT_WS_PATH, CONSOLE_ASSETS_PREFIX],
    requestLimiter: deps.requestLimiter,
    refused: counter(
      deps.metrics.registry,
      'flotilla_auth_refused_total',
      'HTTP requests refused by authentication or authorization, by code',
      ['code'],
    ),
  });
  // Docs first: @fastify/swagger collects the routes registered after it.
  await registerDocs(app, { version: deps.version });
  if (deps.consoleDir === undefined) registerHomeRoute(app, deps);
  else await registerConsoleRoutes(app, deps.consoleDir);
  registerHealthRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerDeviceRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerSchemaRoutes(app);
  registerSessionRoutes(app, deps);
  registerAccountRoutes(app, deps);
  return app;
}
