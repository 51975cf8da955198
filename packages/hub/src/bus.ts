import { matchSubject } from '@flotilla/protocol';

/**
 * The hub's in-process message bus on the Flotilla subject space. Gateways publish what devices
 * say and what the registry changes; `/ws/client` subscribers (and, with `--nats`, nats/bus.ts) receive
 * whatever matches their patterns. Delivery is synchronous and a throwing handler never stops
 * delivery to the others.
 */
export type BusHandler = (subject: string, data: unknown) => void;

export interface Subscription {
  pattern: string;
  handler: BusHandler;
}

export class Bus {
  /** Exact-subject subscriptions, found in O(1); wildcard ones are scanned. */
  private readonly exact = new Map<string, Set<Subscription>>();
  private readonly wildcard = new Set<Subscription>();
  private errors = 0;

  constructor(private readonly onHandlerError?: (err: unknown, subject: string) => void) {}

  subscribe(pattern: string, handler: BusHandler): () => void {
    const sub: Subscription = { pattern, handler };
    if (pattern.includes('*') || pattern.includes('>')) {
      this.wildcard.add(sub);
      return () => this.wildcard.delete(sub);
    }
    let set = this.exact.get(pattern);
    if (!set) this.exact.set(pattern, (set = new Set()));
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.exact.delete(pattern);
    };
  }

  publish(subject: string, data: unknown): void {
    const exact = this.exact.get(subject);
    if (exact) for (const sub of exact) this.deliver(sub, subject, data);
    for (const sub of this.wildcard) {
      if (matchSubject(sub.pattern, subject)) this.deliver(sub, subject, data);
    }
  }

  /** True when anyone listens on a subject: lets publishers skip building costly payloads. */
  hasSubscribers(subject: string): boolean {
    if (this.exact.has(subject)) return true;
    for (const sub of this.wildcard) if (matchSubject(sub.pattern, subject)) return true;
    return false;
  }

  get subscriptionCount(): number {
    let n = this.wildcard.size;
    for (const set of this.exact.values()) n += set.size;
    return n;
  }

  get handlerErrors(): number {
    return this.errors;
  }

  protected deliver(sub: Subscription, subject: string, data: unknown): void {
    try {
      sub.handler(subject, data);
    } catch (err) {
      this.errors++;
      this.onHandlerError?.(err, subject);
    }
  }
}
