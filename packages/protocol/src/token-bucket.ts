/**
 * A token bucket refilled continuously: `rate` tokens per second, holding at most `burst`. It
 * is the shape of every rate limit (the hub's requests per API token and messages per device,
 * the agent's telemetry frames): short bursts pass, a sustained excess is refused with how long
 * to wait.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token: 0 when allowed, else the ms until one is available. */
  take(now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + (Math.max(0, now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.rate) * 1000);
  }
}
