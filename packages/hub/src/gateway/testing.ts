import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { WebSocket } from 'ws';
import {
  ManualClock,
  envelope,
  type HelloPayload,
  type Message,
  type MessageType,
  type PayloadOf,
} from '@flotilla/protocol';
import { pino } from 'pino';
import { Bus } from '../bus.js';
import { SecurityEvents } from '../enrollment/security.js';
import { DeviceEnrollment } from '../enrollment/service.js';
import { createMetrics, type HubMetrics } from '../metrics.js';
import { Registry } from '../registry/registry.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/types.js';
import { AgentGateway } from './agent-gateway.js';
import type { MessageLimit } from './session.js';
import { agentWebSocketPluginOptions, registerAgentWebSocket } from './ws-agent.js';

/**
 * Test helpers for the agent gateway: a minimal app serving `/ws/agent` over real sockets on
 * real storage (SQLite in a temporary directory), with a ManualClock for presence, and a
 * scripted device speaking the protocol over a real `ws` client. Tests only.
 */

export interface GatewayHarness {
  url: string;
  clock: ManualClock;
  bus: Bus;
  storage: Storage;
  registry: Registry;
  gateway: AgentGateway;
  metrics: HubMetrics;
  /** Enrollment tokens and credentials; the gateway checks hellos with it when `deviceAuth` is set. */
  enrollment: DeviceEnrollment;
  close(): Promise<void>;
}

export async function startGatewayHarness(
  options: { heartbeatIntervalMs?: number; deviceAuth?: boolean; messageLimit?: MessageLimit | null } = {},
): Promise<GatewayHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-gateway-'));
  const clock = new ManualClock();
  const bus = new Bus();
  const metrics = createMetrics({ clock, defaultMetrics: false });
  const storage = await openStorage({ dataDir });
  const registry = await Registry.open({ storage, bus, clock, metrics });
  const logger = pino({ enabled: false });
  const enrollment = new DeviceEnrollment({ storage, bus, clock, logger });
  const security = new SecurityEvents({ storage, bus, clock, logger, metrics });
  const gateway = new AgentGateway({
    registry,
    bus,
    clock,
    metrics,
    hubVersion: '0.1.0-test',
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    ...(options.messageLimit !== undefined && { messageLimit: options.messageLimit }),
    ...(options.deviceAuth && { authenticate: (request) => enrollment.authenticate(request) }),
    onSecurityEvent: (event) => security.record(event),
  });
  enrollment.onRevoked((id) => gateway.revoked(id));
  const app = Fastify();
  await app.register(fastifyWebsocket, agentWebSocketPluginOptions);
  registerAgentWebSocket(app, { gateway });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/ws/agent`,
    clock,
    bus,
    storage,
    registry,
    gateway,
    metrics,
    enrollment,
    async close() {
      await gateway.close();
      await app.close();
      await registry.close();
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const WAIT_MS = 5000;

/** Polls a condition on real I/O progress (socket events, storage commits), bounded. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A device over a real WebSocket: sends frames, and collects what the hub sends back. */
export class TestDevice {
  readonly received: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private seq = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: WebSocket,
    readonly id: string,
  ) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    // A client writing into a socket the hub has just closed may see EPIPE/ECONNRESET.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  static async connect(url: string, id: string): Promise<TestDevice> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new TestDevice(socket, id);
  }

  /** Connects and says hello; resolves with the welcome. */
  static async online(
    url: string,
    id: string,
    hello: HelloPayload = {},
  ): Promise<{ device: TestDevice; welcome: Message }> {
    const device = await TestDevice.connect(url, id);
    device.send('hello', hello);
    return { device, welcome: await device.next('welcome') };
  }

  send<T extends MessageType>(type: T, payload: PayloadOf<T>, device = this.id): number {
    const seq = this.seq++;
    this.sendRaw(JSON.stringify(envelope(type, device, seq, Date.now(), payload)));
    return seq;
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** The next received message of `type` not yet taken, waiting for it if needed. */
  async next(type: MessageType, timeoutMs = WAIT_MS): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0] as Message;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.id}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.closed;
  }
}
