import type { Clock } from '@flotilla/protocol';

/**
 * Slows password guessing: failed logins are counted per username and per client address;
 * past a free allowance each further failure locks that key out for twice as long as the last
 * (1 s, 2 s, 4 s … up to 15 min). A success clears the username's count. Keys are independent,
 * so an attack on one account, or from one address, leaves every other user able to log in.
 * In memory, per hub: a restart forgives, which costs an attacker a restart they cannot cause.
 */
export interface LoginLimiterOptions {
  clock: Clock;
  /** Failures per username before lockouts start (default 5). */
  perUser?: number;
  /** Failures per address before lockouts start (default 20: offices share addresses). */
  perAddress?: number;
  baseLockoutMs?: number;
  maxLockoutMs?: number;
  /** Failures older than this are forgotten once no lockout holds (default 15 min). */
  windowMs?: number;
}

interface Entry {
  failures: number;
  lockedUntil: number;
  last: number;
}

const MAX_KEYS = 100_000;

export class LoginLimiter {
  readonly #clock: Clock;
  readonly #perUser: number;
  readonly #perAddress: number;
  readonly #base: number;
  readonly #max: number;
  readonly #window: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginLimiterOptions) {
    this.#clock = options.clock;
    this.#perUser = options.perUser ?? 5;
    this.#perAddress = options.perAddress ?? 20;
    this.#base = options.baseLockoutMs ?? 1000;
    this.#max = options.maxLockoutMs ?? 15 * 60_000;
    this.#window = options.windowMs ?? 15 * 60_000;
  }

  /** Milliseconds until this username from this address may try again; 0 when it may now. */
  retryAfter(username: string, address: string): number {
    const now = this.#clock.now();
    let wait = 0;
    for (const key of [`u:${username}`, `a:${address}`]) {
      const entry = this.#live(key, now);
      if (entry && entry.lockedUntil > now) wait = Math.max(wait, entry.lockedUntil - now);
    }
    return wait;
  }

  failed(username: string, address: string): void {
    const now = this.#clock.now();
    this.#fail(`u:${username}`, this.#perUser, now);
    this.#fail(`a:${address}`, this.#perAddress, now);
    if (this.#entries.size > MAX_KEYS) this.#prune(now);
  }

  succeeded(username: string): void {
    this.#entries.delete(`u:${username}`);
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.lockedUntil <= now && now - entry.last > this.#window) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #fail(key: string, allowance: number, now: number): void {
    const entry = this.#live(key, now) ?? { failures: 0, lockedUntil: 0, last: now };
    entry.failures += 1;
    entry.last = now;
    const over = entry.failures - allowance;
    if (over >= 0) entry.lockedUntil = now + Math.min(this.#max, this.#base * 2 ** Math.min(over, 30));
    this.#entries.set(key, entry);
  }

  #prune(now: number): void {
    for (const key of [...this.#entries.keys()]) this.#live(key, now);
  }
}
