import type { Clock } from '@flotilla/protocol';

/**
 * Requests per API token: a token bucket per token id, refilled continuously. Automation that
 * loops without pause gets `429 rate_limited` with how long to wait instead of starving the
 * hub for everyone else. In memory, per hub.
 */
export interface RequestLimiterOptions {
  clock: Clock;
  /** Sustained requests per second per token (default 50). */
  ratePerSecond?: number;
  /** Requests a token may make at once before the rate applies (default 200). */
  burst?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RequestLimiter {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RequestLimiterOptions) {
    this.#clock = options.clock;
    this.#rate = options.ratePerSecond ?? 50;
    this.#burst = options.burst ?? 200;
  }

  /** Takes one request from the key's bucket: 0 when allowed, else ms until one is available. */
  take(key: string): number {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.#rate) * 1000);
  }
}
