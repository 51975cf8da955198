import type { Clock, ServerFrame, SubscribeFrame, Throttle, UnsubscribeFrame } from '@flotilla/protocol';
import { refClock } from '@flotilla/protocol/clock';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { FlotillaError, SdkErrorCodes } from './errors.js';
import { AsyncQueue } from './queue.js';
import { liveUrl } from './url.js';

/** The part of the WebSocket API the live client uses (the browser's, Node's global, or `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: { readonly type: string }) => void,
  ): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A message the hub published on a subject matching one of the subscription's patterns. */
export interface LiveMessage {
  subject: string;
  data: unknown;
}
export type LiveHandler = (message: LiveMessage) => void;

/** What happens to the connection, as data (for status bars and logs). */
export type LiveEvent =
  | { type: 'connecting'; attempt: number; url: string }
  | { type: 'open' }
  | { type: 'disconnected'; reason: string; retryInMs: number }
  | { type: 'closed' }
  /** An error frame from the hub (`subjects`: those of the subscription it answers), or a local fault. */
  | { type: 'error'; code: string; message: string; subjects?: string[] };

export type LiveState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface LiveClientOptions {
  /** The hub's URL (`http://localhost:8080`) or its `/ws/client` URL (`ws://…/ws/client`). */
  url: string;
  /** Defaults to the global WebSocket (browsers, Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
  /**
   * Access token or API token. Sent as `?access_token=` on the upgrade: browsers cannot set an
   * Authorization header on a WebSocket, so the hub accepts it there. A function is asked before
   * every connection, so a reconnect hours later can send a refreshed access token; when it
   * throws, the attempt fails like a lost connection and is retried with backoff.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  clock?: Clock;
  /** Jitter source for reconnect delays. */
  random?: () => number;
  backoff?: BackoffOptions;
  /**
   * A ping is sent this often (ms); a connection that stayed silent for a whole interval is
   * dropped and reconnected, which catches half-open TCP connections. 0 turns it off. Default 30 000.
   */
  pingIntervalMs?: number;
}

interface Subscription {
  id: string;
  patterns: string[];
  handler: LiveHandler;
  throttle: Throttle | undefined;
  onError: ((err: FlotillaError) => void) | undefined;
}

type Matcher = (pattern: string, subject: string) => boolean;

const OPEN = 1;

/**
 * Client of the hub's live stream (`/ws/client`). Connects on the first subscription, delivers
 * each published message to every subscription whose patterns match, and after a lost
 * connection reconnects with backoff and subscribes again.
 */
export class LiveClient {
  readonly url: string;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly pingIntervalMs: number;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly streams = new Set<AsyncQueue<LiveMessage>>();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private socket: WebSocketLike | undefined;
  private match: Matcher | undefined;
  private started = false;
  private closed = false;
  private failures = 0;
  private nextId = 1;
  private heard = false;
  private retryTimer: { cancel(): void } | undefined;
  private pinger: { cancel(): void } | undefined;
  private currentState: LiveState = 'idle';
  private readonly token: LiveClientOptions['token'];

  constructor(options: LiveClientOptions) {
    this.url = liveUrl(options.url);
    // Kept apart from `url`, which appears in state events and logs: the token must not.
    this.token = options.token;
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl)
      throw new TypeError('no WebSocket implementation: pass options.WebSocket (for example the `ws` package)');
    this.WebSocketImpl = impl;
    this.clock = options.clock ?? refClock;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? {};
    this.pingIntervalMs = options.pingIntervalMs ?? 30_000;
  }

  get state(): LiveState {
    return this.currentState;
  }

  /** Listens to connection events; returns a function that stops listening. */
  on(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Subscribes to subject patterns (`flotilla.*.status`, `flotilla.robot-7.event.>`). The hub
   * applies `throttle` per pattern on this connection, so give two different throttles for the
   * same pattern their own LiveClient. Returns the function that unsubscribes.
   */
  subscribe(patterns: string | readonly string[], handler: LiveHandler, throttle?: Throttle): () => void {
    return this.add(patterns, handler, throttle, undefined);
  }

  /**
   * The messages on the patterns as an async iterator, for `for await`. It ends when the loop
   * breaks or the client closes, and throws when the hub refuses the subscription.
   */
  stream(patterns: string | readonly string[], throttle?: Throttle): AsyncIterableIterator<LiveMessage> {
    let remove = (): void => {};
    const queue = new AsyncQueue<LiveMessage>(() => {
      remove();
      this.streams.delete(queue);
    });
    remove = this.add(
      patterns,
      (m) => queue.push(m),
      throttle,
      (err) => {
        remove();
        this.streams.delete(queue);
        queue.fail(err);
      },
    );
    this.streams.add(queue);
    return queue;
  }

  /** Closes the connection for good: streams end, no reconnect. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retryTimer?.cancel();
    this.stopPing();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'client closed');
    this.subscriptions.clear();
    for (const q of this.streams) q.end();
    this.streams.clear();
    this.setState('closed');
    this.emit({ type: 'closed' });
  }

  private add(
    patterns: string | readonly string[],
    handler: LiveHandler,
    throttle: Throttle | undefined,
    onError: ((err: FlotillaError) => void) | undefined,
  ): () => void {
    if (this.closed) throw new FlotillaError(SdkErrorCodes.CLIENT_CLOSED, 'the live client is closed');
    const list = typeof patterns === 'string' ? [patterns] : [...patterns];
    if (list.length === 0)
      throw new FlotillaError(SdkErrorCodes.BAD_SUBJECT, 'subscribe needs at least one subject pattern');
    const sub: Subscription = { id: `s${this.nextId++}`, patterns: list, handler, throttle, onError };
    this.subscriptions.set(sub.id, sub);
    if (this.socket?.readyState === OPEN) this.sendSubscribe(sub);
    this.start();
    return () => this.remove(sub);
  }

  private remove(sub: Subscription): void {
    if (!this.subscriptions.delete(sub.id)) return;
    // Patterns are per connection on the hub: keep those another subscription still uses.
    const stillUsed = new Set([...this.subscriptions.values()].flatMap((s) => s.patterns));
    const subjects = sub.patterns.filter((p) => !stillUsed.has(p));
    if (subjects.length > 0 && this.socket?.readyState === OPEN) {
      this.send({ type: 'unsubscribe', id: sub.id, subjects } satisfies UnsubscribeFrame);
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.setState('connecting');
    // Loaded here rather than at the top: the protocol module compiles every schema when it
    // loads, which REST-only users (the CLI's `devices`) should not pay for.
    import('@flotilla/protocol').then(
      (protocol) => {
        this.match = protocol.matchSubject;
        if (!this.closed) this.dial();
      },
      (err: unknown) => this.emit({ type: 'error', code: SdkErrorCodes.HANDLER_FAILED, message: String(err) }),
    );
  }

  private dial(): void {
    this.setState(this.failures === 0 ? 'connecting' : 'reconnecting');
    this.emit({ type: 'connecting', attempt: this.failures + 1, url: this.url });
    const token = this.token;
    if (typeof token !== 'function') {
      this.open(withToken(this.url, token));
      return;
    }
    Promise.resolve()
      .then(token)
      .then(
        (value) => {
          if (!this.closed) this.open(withToken(this.url, value));
        },
        (err: unknown) => this.retry(`no token: ${err instanceof Error ? err.message : String(err)}`),
      );
  }

  private open(connectUrl: string): void {
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(connectUrl);
    } catch (err) {
      this.retry(`cannot open ${this.url}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.socket = ws;
    ws.addEventListener('open', () => {
      if (this.socket === ws) this.onOpen(ws);
    });
    ws.addEventListener('message', (event) => {
      if (this.socket === ws) this.onData((event as { data?: unknown }).data);
    });
    ws.addEventListener('close', (event) => {
      const code = (event as { code?: unknown }).code;
      this.drop(ws, typeof code === 'number' ? `connection closed (${code})` : 'connection closed');
    });
    ws.addEventListener('error', () => this.drop(ws, 'connection failed'));
  }

  private onOpen(ws: WebSocketLike): void {
    this.failures = 0;
    this.setState('open');
    this.emit({ type: 'open' });
    for (const sub of this.subscriptions.values()) this.sendSubscribe(sub);
    if (this.pingIntervalMs > 0) {
      this.heard = true;
      this.pinger = this.clock.setInterval(() => {
        if (!this.heard) {
          this.drop(ws, `no answer from the hub within ${this.pingIntervalMs} ms`);
          return;
        }
        this.heard = false;
        this.send({ type: 'ping' });
      }, this.pingIntervalMs);
    }
  }

  /** Forgets a socket that failed and schedules the next attempt. Later events of `ws` are ignored. */
  private drop(ws: WebSocketLike, reason: string): void {
    if (this.socket !== ws) return;
    this.socket = undefined;
    this.stopPing();
    try {
      ws.close();
    } catch {
      // already closed or never opened: nothing to release
    }
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.closed) return;
    const retryInMs = backoffDelay(this.failures++, this.backoff, this.random);
    this.setState('reconnecting');
    this.emit({ type: 'disconnected', reason, retryInMs });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.dial();
    }, retryInMs);
  }

  private stopPing(): void {
    this.pinger?.cancel();
    this.pinger = undefined;
  }

  private onData(raw: unknown): void {
    this.heard = true;
    const text =
      typeof raw === 'string'
        ? raw
        : raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)
          ? new TextDecoder().decode(raw as Uint8Array)
          : undefined;
    if (text === undefined) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.emit({ type: 'error', code: SdkErrorCodes.BAD_RESPONSE, message: 'the hub sent a frame that is not JSON' });
      return;
    }
    if (frame === null || typeof frame !== 'object') return;
    if (frame.type === 'message') this.deliver(frame.subject, frame.data);
    else if (frame.type === 'error') this.onHubError(frame);
    // subscribed / unsubscribed / pong only prove the connection is alive, noted above
  }

  private deliver(subject: unknown, data: unknown): void {
    if (typeof subject !== 'string' || !this.match) return;
    const match = this.match;
    for (const sub of [...this.subscriptions.values()]) {
      if (!sub.patterns.some((p) => match(p, subject))) continue;
      try {
        sub.handler({ subject, data });
      } catch (err) {
        this.emit({
          type: 'error',
          code: SdkErrorCodes.HANDLER_FAILED,
          message: err instanceof Error ? err.message : String(err),
          subjects: sub.patterns,
        });
      }
    }
  }

  private onHubError(frame: Extract<ServerFrame, { type: 'error' }>): void {
    const code = typeof frame.error?.code === 'string' ? frame.error.code : SdkErrorCodes.BAD_RESPONSE;
    const message = typeof frame.error?.message === 'string' ? frame.error.message : 'error from the hub';
    const sub = frame.id === undefined ? undefined : this.subscriptions.get(frame.id);
    this.emit(sub ? { type: 'error', code, message, subjects: sub.patterns } : { type: 'error', code, message });
    sub?.onError?.(new FlotillaError(code, message));
  }

  private sendSubscribe(sub: Subscription): void {
    const frame: SubscribeFrame = { type: 'subscribe', id: sub.id, subjects: sub.patterns };
    if (sub.throttle) frame.throttle = sub.throttle;
    this.send(frame);
  }

  private send(frame: SubscribeFrame | UnsubscribeFrame | { type: 'ping' }): void {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // the socket is closing; its close event reconnects and subscribes again
    }
  }

  private setState(state: LiveState): void {
    this.currentState = state;
  }

  private emit(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // a failing listener must not break the connection logic or the other listeners
      }
    }
  }
}

function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('access_token', token);
  return parsed.toString();
}
