import type { Clock } from '@flotilla/protocol';
import { TokenBucket } from '@flotilla/protocol';

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

export class RequestLimiter {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: RequestLimiterOptions) {
    this.#clock = options.clock;
    this.#rate = options.ratePerSecond ?? 50;
    this.#burst = options.burst ?? 200;
  }

  /** Takes one request from the key's bucket: 0 when allowed, else ms until one is available. */
  take(key: string): number {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }
}
