import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Agent } from './agent.js';
import type { AgentState, StateEvent } from './state.js';
import {
  ErrorCodes,
  MAX_FRAME_BYTES,
  envelope,
  parseFrame,
  type Message,
  type MessageType,
  type PayloadOf,
} from '@flotilla/protocol';

/**
 * A minimal hub side of `/ws/agent` over a real WebSocket server, for tests and scale checks of
 * the agent and the simulator: `hello` → `welcome`, `heartbeat` → `ack`, `replaced` for a
 * duplicate id, like the hub. It is a test peer, not a hub: no registry, no storage.
 * Published as `@flotilla/agent/test-peer`.
 */
export interface TestPeerOptions {
  heartbeatIntervalMs?: number;
  /** Answer `hello` with `welcome` (default true). */
  welcome?: boolean;
  /** Answer `heartbeat` with `ack` (default true). */
  ack?: boolean;
  /**
   * Decides each hello from its token, like the hub's device authentication: a refusal code
   * (sent in an `error` frame, then the socket is closed with 4003), or a credential to hand out
   * in `welcome`. Absent: every hello is welcome.
   */
  authenticate?: (device: string, token: string | undefined) => { refuse: string } | { credential?: string };
  /** Keep every received frame in `frames` (default true; off for scale runs). */
  record?: boolean;
  host?: string;
  port?: number;
}

export interface PeerEvents {
  frame: [Message];
  /** A device said hello. */
  hello: [string];
  /** A device's socket closed. */
  gone: [string];
}

export class TestPeer extends EventEmitter<PeerEvents> {
  readonly frames: Message[] = [];
  /** Open sessions by device id. */
  readonly sessions = new Map<string, WebSocket>();
  /** Sockets accepted since start. */
  accepted = 0;
  heartbeatIntervalMs: number;
  welcome: boolean;
  ack: boolean;
  authenticate: TestPeerOptions['authenticate'];
  private seq = 0;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
    private readonly record: boolean,
    options: TestPeerOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
    this.welcome = options.welcome ?? true;
    this.ack = options.ack ?? true;
    this.authenticate = options.authenticate;
    wss.on('connection', (ws) => this.onConnection(ws));
  }

  static async start(options: TestPeerOptions = {}): Promise<TestPeer> {
    const wss = new WebSocketServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      path: '/ws/agent',
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      backlog: 4096,
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const { address, port } = wss.address() as AddressInfo;
    return new TestPeer(wss, `http://${address}:${port}`, options.record ?? true, options);
  }

  /** Sends a frame to a connected device. */
  send<T extends MessageType>(device: string, type: T, payload: PayloadOf<T>): void {
    const ws = this.sessions.get(device);
    if (!ws) throw new Error(`test peer: ${device} is not connected`);
    ws.send(JSON.stringify(envelope(type, device, ++this.seq, Date.now(), payload)));
  }

  /** Sends raw text to a connected device (for malformed-frame tests). */
  sendRaw(device: string, text: string): void {
    this.sessions.get(device)?.send(text);
  }

  /** Cuts a device's socket without a close handshake, as a crashed hub would. */
  drop(device: string): void {
    this.sessions.get(device)?.terminate();
  }

  /** The next received frame that matches. */
  nextFrame(match: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const onFrame = (m: Message): void => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.off('frame', onFrame);
        resolve(m);
      };
      // a real-time bound on a real I/O wait, not a sleep: the test fails instead of hanging
      const timer = setTimeout(() => {
        this.off('frame', onFrame);
        reject(new Error(`test peer: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('frame', onFrame);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    this.accepted++;
    let device: string | undefined;
    ws.on('message', (data: RawData) => {
      const parsed = parseFrame(
        Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data),
      );
      if (!parsed.ok) {
        ws.send(
          JSON.stringify(
            envelope('error', device ?? 'unknown', ++this.seq, Date.now(), {
              code: parsed.error.code,
              message: parsed.error.message,
            }),
          ),
        );
        return;
      }
      const msg = parsed.value;
      if (this.record) this.frames.push(msg);
      if (msg.type === 'hello') {
        const decision = this.authenticate?.(msg.device, msg.payload.token) ?? {};
        if ('refuse' in decision) {
          const refusal = { code: decision.refuse as (typeof ErrorCodes)[keyof typeof ErrorCodes], message: 'refused' };
          ws.send(JSON.stringify(envelope('error', msg.device, ++this.seq, Date.now(), refusal)));
          ws.close(4003, decision.refuse);
          this.emit('frame', msg);
          return;
        }
        device = msg.device;
        const previous = this.sessions.get(device);
        if (previous && previous !== ws) {
          previous.send(
            JSON.stringify(
              envelope('error', device, ++this.seq, Date.now(), {
                code: ErrorCodes.REPLACED,
                message: 'replaced by a newer connection',
              }),
            ),
          );
          previous.close(4000, 'replaced');
        }
        this.sessions.set(device, ws);
        if (this.welcome) {
          ws.send(
            JSON.stringify(
              envelope('welcome', device, ++this.seq, Date.now(), {
                heartbeatIntervalMs: this.heartbeatIntervalMs,
                hubVersion: 'test-peer',
                sessionId: `s-${this.seq}`,
                serverTime: Date.now(),
                ...(decision.credential !== undefined && { credential: decision.credential }),
              }),
            ),
          );
        }
        this.emit('hello', device);
      } else if (msg.type === 'heartbeat' && this.ack) {
        ws.send(JSON.stringify(envelope('ack', msg.device, ++this.seq, Date.now(), { of: 'heartbeat', seq: msg.seq })));
      }
      this.emit('frame', msg);
    });
    ws.on('close', () => {
      if (device !== undefined && this.sessions.get(device) === ws) {
        this.sessions.delete(device);
        this.emit('gone', device);
      }
    });
    ws.on('error', () => {
      // a client that vanished; 'close' follows and cleans up
    });
  }
}

/** The agent's next transition into `state`. */
export function nextState<S extends AgentState>(
  agent: Agent,
  state: S,
  timeoutMs = 5_000,
): Promise<Extract<StateEvent, { state: S }>> {
  return new Promise((resolve, reject) => {
    const onState = (e: StateEvent): void => {
      if (e.state !== state) return;
      clearTimeout(timer);
      agent.off('state', onState);
      resolve(e as Extract<StateEvent, { state: S }>);
    };
    const timer = setTimeout(() => {
      agent.off('state', onState);
      reject(new Error(`agent ${agent.id}: not ${state} within ${timeoutMs} ms (is ${agent.state})`));
    }, timeoutMs);
    agent.on('state', onState);
  });
}
