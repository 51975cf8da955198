import type { FastifyInstance } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Clock } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { HubMetrics } from '../metrics.js';
import { ClientWsErrors } from '../http/errors.js';
import { counter, gauge } from '../http/instruments.js';
import type { Principal } from '../auth/principal.js';
import { revokes, type Revocations } from '../auth/revocations.js';
import { ClientSession } from './session.js';
import { roleAllows } from '../auth/permissions.js';
import { subscriptionPermissions } from './permissions.js';

export interface ClientWsOptions {
  bus: Bus;
  clock: Clock;
  metrics: HubMetrics;
  /** Most subscription patterns per connection (default 256). */
  maxSubscriptions?: number;
  /** Socket send-buffer size above which messages to that client are dropped (default 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * How often each connection is pinged (default 30 s). One that has not answered the previous
   * ping is terminated: a client gone without a FIN would otherwise hold its subscriptions, and
   * the bus keep serialising messages for it, until TCP gives up hours later.
   */
  keepaliveMs?: number;
  /**
   * Revoked tokens and changed users: their connections get an `error` frame `revoked_token`
   * and are closed with 4401. Absent: a connection lives as long as the client keeps it.
   */
  revocations?: Revocations;
}

export const CLIENT_WS_PATH = '/ws/client';

/** Close codes of `/ws/client` in the application range (4401 mirrors HTTP 401, as graphql-ws does). */
export const ClientCloseCodes = {
  /** The token the connection was opened with no longer stands: revoked, or its user deleted, disabled or changed. */
  ACCESS_REVOKED: 4401,
} as const;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * `/ws/client`: live subscriptions for consoles and tools. Needs @fastify/websocket registered on
 * the app (buildApp does so, once, for every WebSocket route).
 */
export function registerClientWebSocket(app: FastifyInstance, options: ClientWsOptions): void {
  const connections = gauge(options.metrics.registry, 'flotilla_client_connections', 'Open /ws/client connections');
  const subscriptions = gauge(
    options.metrics.registry,
    'flotilla_client_subscriptions',
    'Subscription patterns held by /ws/client connections',
  );
  const dropped = counter(
    options.metrics.registry,
    'flotilla_client_dropped_total',
    'Messages not sent to a /ws/client connection because it read too slowly',
  );

  const alive = new Map<WebSocket, boolean>();
  const keepalive = options.clock.setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, options.keepaliveMs ?? 30_000);
  app.addHook('onClose', async () => keepalive.cancel());

  // The principal each connection authenticated as at its upgrade: checked once, so a
  // revocation has to reach the connections themselves.
  const principals = new Map<WebSocket, { principal: Principal; session: ClientSession }>();
  const unhookRevocations = options.revocations?.onRevoked((revocation) => {
    for (const [socket, { principal, session }] of principals) {
      if (!revokes(revocation, principal)) continue;
      principals.delete(socket);
      session.farewell(
        ClientWsErrors.REVOKED_TOKEN,
        revocation.kind === 'user'
          ? 'your account changed (deleted, disabled, new role or password): connect again with a new token'
          : 'the token this connection was opened with was revoked',
      );
      socket.close(ClientCloseCodes.ACCESS_REVOKED, 'access revoked');
    }
  });
  if (unhookRevocations) app.addHook('onClose', async () => unhookRevocations());

  // The connection needs `devices:read` (checked with the bearer token, or `?access_token=`,
  // before the upgrade); each subscription also needs what its subjects carry.
  app.get(
    CLIENT_WS_PATH,
    { websocket: true, config: { permission: 'devices:read' }, schema: { hide: true } },
    (socket, request) => {
      const role = request.principal?.role;
      const session = new ClientSession(socket, {
        bus: options.bus,
        clock: options.clock,
        maxSubscriptions: options.maxSubscriptions ?? 256,
        maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
        onDrop: () => dropped.inc(),
        onSubscriptions: (delta) => subscriptions.inc(delta),
        authorize: (pattern) => {
          // Without a principal the route ran without the auth plugin: refuse rather than trust.
          if (role === undefined) return 'not authenticated';
          const missing = subscriptionPermissions(pattern).filter((p) => !roleAllows(role, p));
          return missing.length > 0 ? `role ${role} lacks ${missing.join(', ')}` : undefined;
        },
      });
      connections.inc();
      alive.set(socket, true);
      if (request.principal) principals.set(socket, { principal: request.principal, session });
      request.log.debug('client stream opened');
      socket.on('pong', () => alive.set(socket, true));
      socket.on('message', (data: RawData) => session.handle(toBuffer(data)));
      socket.on('close', () => {
        alive.delete(socket);
        principals.delete(socket);
        session.close();
        connections.dec();
        request.log.debug('client stream closed');
      });
      socket.on('error', (err) => request.log.warn({ err }, 'client stream error'));
    },
  );
}
