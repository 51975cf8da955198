import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchSubject, validatePattern, type Device, type StoredEvent } from '@flotilla/protocol';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A test peer that serves the documented hub contract (REST under /api/v1 and `/ws/client`)
 * from in-memory fixtures, so the logic of the SDK and of the CLI built on it — URL building,
 * pagination, error parsing, reconnects, output — is tested over real sockets. It is not a
 * hub: end-to-end tests against the real hub live with the integration tests. Exported as
 * `@flotilla/sdk/testing` for the CLI's tests; it needs the `ws` package.
 */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface PeerConnection {
  socket: WebSocket;
  /** The upgrade request's path and query (`/ws/client?access_token=…`). */
  url: string;
  subjects: Set<string>;
  frames: Record<string, unknown>[];
  /** Resolves with the next frame the client sends (bounded wait). */
  nextFrame(): Promise<Record<string, unknown>>;
}

export function makeDevice(id: string, overrides: Partial<Device> = {}): Device {
  return {
    id,
    name: id,
    type: 'lekiwi',
    model: 'lekiwi-v2',
    labels: {},
    hardware: {},
    network: {},
    software: {},
    capabilities: [],
    status: { online: true, lastSeen: 1_700_000_000_000, connectedAt: 1_700_000_000_000, uptime: 10, transport: 'ws' },
    resources: {},
    teleoperation: { active: false, operator: null, since: null, streams: [], indicators: [] },
    registeredAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function makeEvent(position: number, aggregateId: string, type = 'DeviceConnected'): StoredEvent {
  return {
    position,
    id: `e${position}`,
    aggregateId,
    type,
    ts: 1_700_000_000_000 + position * 1000,
    data: {},
    metadata: { actor: `device:${aggregateId}`, correlationId: null, causationId: null },
  };
}

const WAIT_MS = 5000;

function waitable<T>(): { push(v: T): void; next(): Promise<T>; clear(): void } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    clear() {
      items.length = 0;
    },
    push(v) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    next() {
      const v = items.shift();
      if (v !== undefined) return Promise.resolve(v);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('test peer: nothing arrived in time')), WAIT_MS);
        waiters.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
  };
}

export class TestPeer {
  readonly devices = new Map<string, Device>();
  events: StoredEvent[] = [];
  readonly requests: RecordedRequest[] = [];
  ready = true;
  /** When false, `ping` frames go unanswered (a half-open connection). */
  answerPings = true;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly incoming = waitable<PeerConnection>();
  readonly connections: PeerConnection[] = [];
  url = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ server: this.server, path: '/ws/client' });
    this.wss.on('connection', (socket, req) => this.accept(socket, req.url ?? ''));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets connections nobody asked for yet, so each test waits for its own. */
  reset(): void {
    this.incoming.clear();
    this.answerPings = true;
  }

  nextConnection(): Promise<PeerConnection> {
    return this.incoming.next();
  }

  /** Sends a message to every connection subscribed to a matching pattern. */
  publish(subject: string, data: unknown): void {
    for (const c of this.connections) {
      if ([...c.subjects].some((p) => matchSubject(p, subject)))
        c.socket.send(JSON.stringify({ type: 'message', subject, data }));
    }
  }

  private accept(socket: WebSocket, url: string): void {
    const frames = waitable<Record<string, unknown>>();
    const conn: PeerConnection = { socket, url, subjects: new Set(), frames: [], nextFrame: () => frames.next() };
    this.connections.push(conn);
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; id?: string; subjects?: string[] };
      conn.frames.push(frame);
      if (frame.type === 'subscribe') {
        const bad = frame.subjects?.map(validatePattern).find((e) => e !== undefined);
        if (bad)
          socket.send(JSON.stringify({ type: 'error', id: frame.id, error: { code: 'bad_subject', message: bad } }));
        else {
          for (const s of frame.subjects ?? []) conn.subjects.add(s);
          socket.send(JSON.stringify({ type: 'subscribed', id: frame.id, subjects: frame.subjects }));
        }
      } else if (frame.type === 'unsubscribe') {
        for (const s of frame.subjects ?? []) conn.subjects.delete(s);
        socket.send(JSON.stringify({ type: 'unsubscribed', id: frame.id, subjects: frame.subjects }));
      } else if (frame.type === 'ping' && this.answerPings) {
        socket.send(JSON.stringify({ type: 'pong', id: frame.id }));
      }
      frames.push(frame);
    });
    this.incoming.push(conn);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', 'http://peer');
    this.requests.push({ method: req.method ?? 'GET', url, headers: req.headers, body });
    const send = (status: number, value?: unknown): void => {
      if (value === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    const fail = (status: number, code: string, message: string): void => send(status, { error: { code, message } });

    // A path prefix (a hub behind a proxy) is accepted and ignored.
    const path = url.pathname.replace(/^\/prefix/, '');
    const deviceMatch = /^\/api\/v1\/devices\/([^/]+)$/.exec(path);
    if (path === '/api/v1/devices' && req.method === 'GET') {
      let items = [...this.devices.values()].sort((a, b) => a.id.localeCompare(b.id));
      const online = url.searchParams.get('online');
      if (online !== null) items = items.filter((d) => d.status.online === (online === 'true'));
      const type = url.searchParams.get('type');
      if (type !== null) items = items.filter((d) => d.type === type);
      for (const sel of url.searchParams.getAll('label')) {
        const [k, v] = sel.split('=');
        items = items.filter((d) => d.labels[k ?? ''] === v);
      }
      const q = url.searchParams.get('q')?.toLowerCase();
      if (q) items = items.filter((d) => d.id.includes(q) || d.name.toLowerCase().includes(q));
      send(200, paginate(items, url));
    } else if (deviceMatch) {
      const id = decodeURIComponent(deviceMatch[1] ?? '');
      const device = this.devices.get(id);
      if (!device) return fail(404, 'device_not_found', `device ${id} not found`);
      if (req.method === 'GET') send(200, device);
      else if (req.method === 'DELETE') {
        this.devices.delete(id);
        send(204);
      } else if (req.method === 'PATCH') {
        const patch = JSON.parse(body) as { name?: string; labels?: Record<string, string | null> };
        const labels = { ...device.labels };
        for (const [k, v] of Object.entries(patch.labels ?? {})) {
          if (v === null) delete labels[k];
          else labels[k] = v;
        }
        const updated = { ...device, name: patch.name ?? device.name, labels };
        this.devices.set(id, updated);
        send(200, updated);
      } else fail(405, 'method_not_allowed', 'method not allowed');
    } else if (path === '/api/v1/events') {
      let items = [...this.events];
      const device = url.searchParams.get('device');
      if (device) items = items.filter((e) => e.aggregateId === device);
      const types = url.searchParams.getAll('type').flatMap((t) => t.split(','));
      if (types.length) items = items.filter((e) => types.includes(e.type));
      const since = url.searchParams.get('since');
      if (since !== null) {
        const at = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
        items = items.filter((e) => e.ts >= at);
      }
      if (url.searchParams.get('order') === 'desc') items.reverse();
      send(200, paginate(items, url));
    } else if (path === '/api/v1/health') send(200, { status: 'ok', version: '0.1.0', uptime: 12.5 });
    else if (path === '/api/v1/ready') {
      if (this.ready) send(200, { status: 'ready' });
      else fail(503, 'storage_unavailable', 'storage is not reachable');
    } else if (path === '/api/v1/proxy-error') {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    } else if (path === '/api/v1/not-json') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    } else fail(404, 'not_found', `no route ${path}`);
  }
}

/** Cursor pagination as the contract describes it: opaque cursor, `limit` 1..1000, default 100. */
function paginate<T>(items: T[], url: URL): { items: T[]; nextCursor: string | null } {
  const limit = Number(url.searchParams.get('limit') ?? 100);
  const start = Number(Buffer.from(url.searchParams.get('cursor') ?? 'MA', 'base64url').toString());
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
  return { items: page, nextCursor: next };
}
