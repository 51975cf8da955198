/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): the n-th delay is uniform in [0, min(cap, base·2ⁿ)). Full jitter spreads a fleet
 * that lost its hub at the same instant over the whole window, so a restarted hub is not hit
 * by 10,000 reconnects in the same millisecond.
 */
export interface BackoffOptions {
  /** First window, in ms (default 500). */
  baseMs?: number;
  /** Largest window, in ms (default 30,000). */
  capMs?: number;
  /** Uniform random in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_CAP_MS = 30_000;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  private attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`backoff needs 0 < base (${this.baseMs}) <= cap (${this.capMs})`);
    }
  }

  /** Retries made since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The window the next delay is drawn from. */
  window(): number {
    // 2^attempts overflows to Infinity long after it passes any cap; min() keeps it finite.
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempts);
  }

  /** Draws the next delay and widens the window for the one after. */
  next(): number {
    const delay = Math.floor(this.random() * this.window());
    this.attempts++;
    return delay;
  }

  /** Back to the first window, after a connection proved stable. */
  reset(): void {
    this.attempts = 0;
  }

  /**
   * Jumps straight to the widest window. Used when the hub says another connection took our
   * id: two agents sharing an id would otherwise evict each other as fast as they can.
   */
  escalate(): void {
    while (this.window() < this.capMs) this.attempts++;
  }
}
