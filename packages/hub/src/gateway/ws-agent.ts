import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { WebsocketPluginOptions } from '@fastify/websocket';
import type { RawData, ServerOptions, WebSocket } from 'ws';
import { ErrorCodes, MAX_FRAME_BYTES, type Message } from '@flotilla/protocol';
import type { AgentGateway } from './agent-gateway.js';
import type { PeerCertificate } from '../tls/device-certificates.js';
import type { AgentConnection, DeviceSession } from './session.js';

export const AGENT_WS_PATH = '/ws/agent';

/**
 * What @fastify/websocket must be registered with for `/ws/agent`: the ws library refuses a
 * frame above MAX_FRAME_BYTES while reading its header (close code 1009), before buffering it.
 * The option is per WebSocket server, and an app has one, shared with `/ws/client`.
 */
export const agentWebSocketServerOptions = { maxPayload: MAX_FRAME_BYTES } as const satisfies ServerOptions;

/** ws's error code for a frame above `maxPayload`. */
const WS_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * Options to register @fastify/websocket with: the frame limit above, and an error handler for
 * what peers do wrong at the WebSocket level (`WS_ERR_*`: oversized or malformed frames) on the
 * app's other WebSocket routes (`/ws/agent` sockets use their own listener, see
 * releaseUpgradeRequest). ws already closes those connections with the matching code (1009,
 * 1002, 1007); the plugin's default handler would log each at error level, letting any client
 * flood the log, and terminate the socket, which can cut the close frame off.
 */
export const agentWebSocketPluginOptions: WebsocketPluginOptions = {
  options: agentWebSocketServerOptions,
  errorHandler(error, socket, request) {
    const code = (error as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      request.log.debug({ code }, 'peer broke the WebSocket protocol');
      return;
    }
    request.log.warn({ err: error }, 'WebSocket error');
    socket.terminate();
  },
};

export interface AgentWebSocketOptions {
  gateway: AgentGateway;
}

/**
 * Registers `/ws/agent` on an app that has @fastify/websocket registered with
 * `agentWebSocketPluginOptions` (or at least `agentWebSocketServerOptions`). Throws at
 * registration when the plugin is missing or allows larger frames, rather than accepting 100 MB
 * frames (ws's default) at run time.
 */
export function registerAgentWebSocket(app: FastifyInstance, options: AgentWebSocketOptions): void {
  const { gateway } = options;
  if (!app.hasDecorator('websocketServer')) {
    throw new Error(
      'registerAgentWebSocket: register @fastify/websocket first, with { options: agentWebSocketServerOptions }',
    );
  }
  const maxPayload = app.websocketServer.options.maxPayload;
  if (maxPayload === undefined || maxPayload === 0 || maxPayload > MAX_FRAME_BYTES) {
    throw new Error(
      `registerAgentWebSocket: @fastify/websocket must be registered with maxPayload <= ${MAX_FRAME_BYTES} (agentWebSocketServerOptions), not ${maxPayload}`,
    );
  }

  // One set of listeners for every socket (they find their session on the socket): a hub holds
  // thousands of idle connections, and closures per connection add up.
  const log = app.log;
  function onMessage(this: AgentSocket, data: RawData): void {
    this[kSession]?.receive(asBytes(data));
  }
  function onClose(this: AgentSocket): void {
    const session = this[kSession];
    if (session) gateway.release(session);
  }
  function onError(this: AgentSocket, err: Error & { code?: string }): void {
    // ws has already started closing the socket with the matching code; what is left is to count it.
    if (err.code === WS_TOO_LARGE) gateway.countFrameError(ErrorCodes.FRAME_TOO_LARGE);
    log.debug({ err, device: this[kSession]?.device }, 'agent socket error');
  }

  // Public at the HTTP level: a device proves who it is in its `hello` (AgentGateway's authenticate).
  app.get(
    AGENT_WS_PATH,
    { websocket: true, config: { public: true }, schema: { hide: true } },
    (socket: AgentSocket, request) => {
      socket[kSession] = gateway.open(new WsConnection(socket, verifiedPeer(request.raw.socket)), 'ws');
      releaseUpgradeRequest(socket, request.raw);
      socket.on('message', onMessage);
      socket.on('close', onClose);
      socket.on('error', onError);
    },
  );
}

/**
 * After the upgrade, @fastify/websocket keeps the HTTP request reachable for the connection's
 * whole life: its per-socket `error` listener closes over the Fastify request and reply, and the
 * TCP socket still points at the (never used) ServerResponse, which holds Fastify's reply hooks.
 * That is about 3 KB per idle device, 40% of the hub's heap per connection, for objects nobody
 * reads again. So: our own `error` listener replaces the plugin's (onError covers what its
 * handler did: ws closes the connection itself on protocol errors and destroys it on socket
 * errors), and the ServerResponse is detached from the socket as Node does when a response ends.
 */
function releaseUpgradeRequest(socket: WebSocket, raw: IncomingMessage): void {
  socket.removeAllListeners('error');
  const tcp = raw.socket as Socket & { _httpMessage?: unknown };
  if (tcp._httpMessage instanceof ServerResponse) tcp._httpMessage.detachSocket(tcp);
}

const kSession = Symbol('flotilla.agentSession');
type AgentSocket = WebSocket & { [kSession]?: DeviceSession };

/**
 * The client certificate of a TLS connection, when it verified against the CA the server was
 * given (the hub CA): TLS asks for one but lets devices without one in (they enroll first), so
 * `authorized` says whether the one presented, if any, checks out. One that does not is ignored.
 * Also used by the MQTT broker for MQTTS and `/mqtt` over WSS.
 */
export function verifiedPeer(socket: Socket): PeerCertificate | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate();
  if (!certificate.serialNumber) return undefined;
  const cn = certificate.subject?.CN;
  return { commonName: Array.isArray(cn) ? cn[0] : cn, serial: certificate.serialNumber };
}

class WsConnection implements AgentConnection {
  constructor(
    private readonly socket: WebSocket,
    readonly peerCertificate: PeerCertificate | undefined,
  ) {}

  send(message: Message): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    // A paused socket would never read the peer's close frame: the handshake needs reading.
    if (this.socket.isPaused) this.socket.resume();
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  keepAlive(): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
