import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { AlertStore, DeliveryRow } from '../storage/alerts.js';
import type { AlertMetrics } from './metrics.js';

/**
 * Webhook deliveries (docs/alerts.md, webhooks). Each delivery is a row (storage/alerts.ts) and
 * an entry in a bounded in-memory queue; a few attempts run at a time, a failed one is retried
 * with exponential backoff on the injected clock until `maxAttempts`, and every attempt's
 * outcome is written to its row (status, attempts, last error, next attempt) and counted. The
 * evaluator only ever calls `enqueue`, which never waits: a slow or dead receiver costs queue
 * space, never evaluation time. When the queue is full a new delivery is refused at once and
 * recorded as failed (`queue full`), so the loss is visible rather than silent.
 */

export const SIGNATURE_HEADER = 'x-flotilla-signature';
export const EVENT_HEADER = 'x-flotilla-event';
export const DELIVERY_HEADER = 'x-flotilla-delivery';
export const ATTEMPT_HEADER = 'x-flotilla-attempt';

export interface WebhookSettings {
  /** Deliveries queued, waiting or in flight, at most (default 1000). */
  maxQueued: number;
  /** Attempts in flight at once (default 4). */
  concurrency: number;
  /** Attempts per delivery, the first included (default 8). */
  maxAttempts: number;
  /** Wait before the first retry; doubled for each further one (default 1 s). */
  baseDelayMs: number;
  /** Longest wait between attempts (default 5 min). */
  maxDelayMs: number;
  /** An attempt without an answer by then fails (default 10 s). */
  timeoutMs: number;
}

export const WEBHOOK_DEFAULTS: WebhookSettings = {
  maxQueued: 1000,
  concurrency: 4,
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  timeoutMs: 10_000,
};

export interface QueuedDelivery {
  row: DeliveryRow;
  /** The webhook's secret, when it has one: each attempt is signed with it. */
  secret: string | undefined;
}

export interface WebhookDispatcherOptions {
  store: Pick<AlertStore, 'updateDelivery'>;
  clock: Clock;
  logger: Logger;
  metrics: AlertMetrics;
  settings?: Partial<WebhookSettings>;
  fetch?: typeof fetch;
}

/** `sha256=<hex HMAC-SHA256 of the body>`: what receivers compare the signature header with. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The wait before attempt `attempts + 1`: base × 2^(attempts − 1), capped. */
export function retryDelay(attempts: number, settings: Pick<WebhookSettings, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempts - 1));
}

export class WebhookDispatcher extends EventEmitter<{ attempt: [DeliveryRow] }> {
  readonly settings: WebhookSettings;
  readonly #o: WebhookDispatcherOptions;
  readonly #fetch: typeof fetch;
  readonly #ready: QueuedDelivery[] = [];
  readonly #waiting = new Map<string, TimerHandle>();
  /** Attempts under way, so closing the hub does not wait for a slow receiver. */
  readonly #running = new Set<AbortController>();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(options: WebhookDispatcherOptions) {
    super();
    this.#o = options;
    this.settings = { ...WEBHOOK_DEFAULTS, ...options.settings };
    this.#fetch = options.fetch ?? fetch;
  }

  /** Deliveries queued, waiting for a retry or in flight. */
  get size(): number {
    return this.#ready.length + this.#waiting.size + this.#inFlight;
  }

  /**
   * Queues a delivery (its row already stored, status `pending`). Returns false when the queue is
   * full (the delivery is then recorded as failed) or the dispatcher closed.
   */
  enqueue(delivery: QueuedDelivery): boolean {
    // Closing: the row stays pending, and the next start of the hub delivers it.
    if (this.#closed) return false;
    if (this.size >= this.settings.maxQueued) {
      const row = delivery.row;
      row.status = 'failed';
      row.lastError = 'webhook queue full';
      row.nextAttemptAt = null;
      this.#o.metrics.deliveries.inc({ status: 'dropped' });
      this.#record(row);
      return false;
    }
    this.#ready.push(delivery);
    this.#gauge();
    this.#pump();
    return true;
  }

  /** Resolves when no attempt is queued or running (retries waiting on the clock do not count). */
  idle(): Promise<void> {
    if (this.#ready.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops retrying and aborts running attempts; pending rows stay pending and the next start resumes them. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const controller of this.#running) controller.abort();
    for (const timer of this.#waiting.values()) timer.cancel();
    this.#waiting.clear();
    this.#ready.length = 0;
    this.#gauge();
    await this.idle();
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.settings.concurrency && this.#ready.length > 0) {
      const delivery = this.#ready.shift() as QueuedDelivery;
      this.#inFlight++;
      void this.#attempt(delivery).finally(() => {
        this.#inFlight--;
        this.#gauge();
        this.#pump();
        if (this.#ready.length === 0 && this.#inFlight === 0) {
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  async #attempt(delivery: QueuedDelivery): Promise<void> {
    const { clock, metrics } = this.#o;
    const row = delivery.row;
    const body = JSON.stringify(row.payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'flotilla-hub',
      // One connection per attempt: a kept-alive socket the receiver has just timed out fails
      // the next delivery with ECONNRESET, and webhooks are too rare for reuse to pay.
      connection: 'close',
      [EVENT_HEADER]: row.event,
      [DELIVERY_HEADER]: row.id,
      [ATTEMPT_HEADER]: String(row.attempts + 1),
    };
    if (delivery.secret !== undefined) headers[SIGNATURE_HEADER] = signature(delivery.secret, body);
    const controller = new AbortController();
    this.#running.add(controller);
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.settings.timeoutMs);
    let outcome: 'delivered' | 'http_error' | 'network_error' | 'timeout';
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // No redirects: a receiver that moved says so with a 3xx, which is reported, not followed.
      const response = await this.#fetch(row.url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        redirect: 'manual',
      });
      statusCode = response.status;
      await response.body?.cancel();
      outcome = response.ok ? 'delivered' : 'http_error';
      if (!response.ok) error = `HTTP ${response.status}`;
    } catch (err) {
      outcome = timedOut ? 'timeout' : 'network_error';
      error = timedOut ? `no answer within ${this.settings.timeoutMs} ms` : describe(err);
    } finally {
      timer.cancel();
      this.#running.delete(controller);
    }
    const now = clock.now();
    row.attempts++;
    row.lastAttemptAt = now;
    row.lastStatusCode = statusCode;
    row.lastError = error;
    metrics.attempts.inc({ outcome });
    if (outcome === 'delivered') {
      row.status = 'delivered';
      row.deliveredAt = now;
      row.nextAttemptAt = null;
      metrics.deliveries.inc({ status: 'delivered' });
    } else if (row.attempts >= this.settings.maxAttempts) {
      row.status = 'failed';
      row.nextAttemptAt = null;
      metrics.deliveries.inc({ status: 'failed' });
      this.#o.logger.warn({ delivery: row.id, url: row.url, attempts: row.attempts, error }, 'webhook delivery failed');
    } else if (this.#closed) {
      // Stays pending: the next start of the hub resumes it.
      row.nextAttemptAt = null;
    } else {
      const delay = retryDelay(row.attempts, this.settings);
      row.nextAttemptAt = now + delay;
      this.#waiting.set(
        row.id,
        clock.setTimeout(() => {
          this.#waiting.delete(row.id);
          this.#ready.push(delivery);
          this.#pump();
        }, delay),
      );
    }
    await this.#record(row);
    this.emit('attempt', { ...row });
  }

  #record(row: DeliveryRow): Promise<void> {
    return this.#o.store
      .updateDelivery(row)
      .catch((err: unknown) => this.#o.logger.error({ err, delivery: row.id }, 'cannot record a webhook attempt'));
  }

  #gauge(): void {
    this.#o.metrics.queue.set(this.size);
  }
}

/** A fetch failure in one line: undici hides the useful part (ECONNREFUSED…) in `cause`. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
