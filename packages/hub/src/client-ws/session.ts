import {
  ErrorCodes,
  matchSubject,
  parseClientFrame,
  validatePattern,
  type Clock,
  type ServerFrame,
  type SubscribeFrame,
  type Throttle,
  type UnsubscribeFrame,
} from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import { ClientWsErrors } from '../http/errors.js';
import { Throttler } from './throttle.js';

/** The part of a `ws` WebSocket a session uses. */
export interface ClientSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
}

const OPEN = 1;

export interface SessionOptions {
  bus: Bus;
  clock: Clock;
  /** Most patterns one connection may hold. */
  maxSubscriptions: number;
  /**
   * Bytes queued on the socket above which messages are dropped instead of queued: one slow
   * client must cost the hub a bounded amount of memory, never stall it.
   */
  maxBufferedBytes: number;
  /** Called for every message dropped because the client reads too slowly. */
  onDrop?: () => void;
  /** Called with +n / -n as patterns are added and removed (a gauge of held subscriptions). */
  onSubscriptions?: (delta: number) => void;
  /** Why the caller may not subscribe to a pattern, or undefined when they may. */
  authorize: (pattern: string) => string | undefined;
}

interface Subscription {
  unsubscribe: () => void;
  throttler: Throttler | undefined;
}

/**
 * One `/ws/client` connection: its subscriptions and the frames it exchanges. Every frame is
 * validated; a bad one is answered with an `error` frame and the connection stays open.
 */
export class ClientSession {
  /** Pattern → subscription, in subscription order (Map keeps insertion order). */
  private readonly subscriptions = new Map<string, Subscription>();
  private dropped = 0;
  private closed = false;

  constructor(
    private readonly socket: ClientSocket,
    private readonly options: SessionOptions,
  ) {}

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  handle(raw: string | Uint8Array): void {
    if (this.closed) return;
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) {
      this.reply({ type: 'error', error: { code: parsed.error.code, message: parsed.error.message } });
      return;
    }
    const frame = parsed.value;
    switch (frame.type) {
      case 'subscribe':
        this.subscribe(frame);
        return;
      case 'unsubscribe':
        this.unsubscribe(frame);
        return;
      case 'ping':
        this.reply(withId({ type: 'pong' }, frame.id));
        return;
    }
  }

  /** Tells the client why the hub is about to close the connection (sent even to a slow reader). */
  farewell(code: string, message: string): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify({ type: 'error', error: { code, message } } satisfies ServerFrame));
  }

  /** Drops every subscription and pending throttle timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const pattern of [...this.subscriptions.keys()]) this.drop(pattern);
  }

  private subscribe(frame: SubscribeFrame): void {
    const patterns = [...new Set(frame.subjects)];
    // All or nothing: a frame with one bad pattern subscribes to none of them, so the client
    // never has to work out which half of its request took effect.
    for (const pattern of patterns) {
      const problem = validatePattern(pattern);
      if (problem) {
        this.reply(
          withId(
            { type: 'error', error: { code: ErrorCodes.BAD_SUBJECT, message: `${pattern}: ${problem}` } },
            frame.id,
          ),
        );
        return;
      }
      const refusal = this.options.authorize(pattern);
      if (refusal) {
        this.reply(
          withId(
            { type: 'error', error: { code: ClientWsErrors.FORBIDDEN, message: `${pattern}: ${refusal}` } },
            frame.id,
          ),
        );
        return;
      }
    }
    const added = patterns.filter((p) => !this.subscriptions.has(p)).length;
    if (this.subscriptions.size + added > this.options.maxSubscriptions) {
      this.reply(
        withId(
          {
            type: 'error',
            error: {
              code: ClientWsErrors.TOO_MANY_SUBSCRIPTIONS,
              message: `a connection holds at most ${this.options.maxSubscriptions} subscriptions (has ${this.subscriptions.size}, asked for ${added} more)`,
            },
          },
          frame.id,
        ),
      );
      return;
    }
    for (const pattern of patterns) {
      // Subscribing again to a held pattern replaces its throttle; it never duplicates messages.
      this.drop(pattern);
      this.subscriptions.set(pattern, this.createSubscription(pattern, frame.throttle));
      this.options.onSubscriptions?.(1);
    }
    this.reply(withId({ type: 'subscribed', subjects: patterns }, frame.id));
  }

  private unsubscribe(frame: UnsubscribeFrame): void {
    const patterns = [...new Set(frame.subjects)];
    for (const pattern of patterns) this.drop(pattern);
    this.reply(withId({ type: 'unsubscribed', subjects: patterns }, frame.id));
  }

  private drop(pattern: string): void {
    const sub = this.subscriptions.get(pattern);
    if (!sub) return;
    sub.unsubscribe();
    sub.throttler?.close();
    this.subscriptions.delete(pattern);
    this.options.onSubscriptions?.(-1);
  }

  private createSubscription(pattern: string, throttle: Throttle | undefined): Subscription {
    const throttler = throttle
      ? new Throttler(throttle, this.options.clock, (subject, data) => this.deliver(subject, data))
      : undefined;
    const unsubscribe = this.options.bus.subscribe(pattern, (subject, data) => {
      // Overlapping patterns (`flotilla.>` and `flotilla.r1.status`) would otherwise deliver one
      // message twice; it goes out once, through the oldest matching subscription (and its throttle).
      if (this.coveredByEarlier(pattern, subject)) return;
      if (throttler) throttler.push(subject, data);
      else this.deliver(subject, data);
    });
    return { unsubscribe, throttler };
  }

  private coveredByEarlier(pattern: string, subject: string): boolean {
    if (this.subscriptions.size < 2) return false;
    for (const earlier of this.subscriptions.keys()) {
      if (earlier === pattern) return false;
      if (matchSubject(earlier, subject)) return true;
    }
    return false;
  }

  private deliver(subject: string, data: unknown): void {
    if (!this.closed) this.reply({ type: 'message', subject, data });
  }

  /**
   * Every frame to the client goes through here. Above `maxBufferedBytes` waiting in the socket,
   * frames are dropped and counted (replies too: a client that sends pings without reading the
   * pongs must not grow the hub's memory either).
   */
  private reply(frame: ServerFrame): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.dropped++;
      this.options.onDrop?.();
      return;
    }
    if (this.dropped > 0) {
      // The client caught up: tell it how much it missed before it sees the next frame, so a
      // console knows to refetch rather than trust a view with holes.
      const notice: ServerFrame = {
        type: 'error',
        error: {
          code: ClientWsErrors.SLOW_CONSUMER,
          message: `${this.dropped} message(s) dropped: the client read too slowly`,
        },
      };
      this.dropped = 0;
      this.socket.send(JSON.stringify(notice));
    }
    this.socket.send(JSON.stringify(frame));
  }
}

function withId<T extends ServerFrame>(frame: T, id: string | undefined): T {
  return id === undefined ? frame : { ...frame, id };
}
