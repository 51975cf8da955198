import type { Clock, TimerHandle } from '@flotilla/protocol';

/**
 * Presence: which device sessions are alive. A session counts as alive while frames keep
 * arriving; after `missedIntervals` (3) heartbeat intervals without any frame it expires, and
 * its owner (the transport session) marks the device offline and drops the connection.
 * A socket that closes is not presence's business: the transport reports it at once.
 *
 * One sweep timer serves every session (no timer per connection: at 10,000 devices that is
 * 10,000 timers re-armed on every frame). The sweep runs every tenth of an interval, capped at
 * 1 s, so a device goes offline between 3 intervals and 3 intervals + one sweep period after its
 * last frame, never earlier.
 */
export interface PresenceTarget {
  /** Clock time of the last frame; written by Presence on `track` and `touch`. */
  lastSeen: number;
  /** Called once, after the target has been untracked, when it has been silent too long. */
  expire(): void;
}

export interface PresenceOptions {
  clock: Clock;
  heartbeatIntervalMs: number;
  /** Intervals without a frame before a session expires (default 3). */
  missedIntervals?: number;
  /** Sweep period (default: a tenth of the interval, between 10 ms and 1 s). */
  sweepEveryMs?: number;
}

export const DEFAULT_MISSED_INTERVALS = 3;

export class Presence {
  private readonly targets = new Map<string, PresenceTarget>();
  private readonly clock: Clock;
  private readonly timer: TimerHandle;
  private held = false;
  /** Silence after which a session expires (ms). */
  readonly timeoutMs: number;
  readonly sweepEveryMs: number;

  constructor(options: PresenceOptions) {
    this.clock = options.clock;
    this.timeoutMs = options.heartbeatIntervalMs * (options.missedIntervals ?? DEFAULT_MISSED_INTERVALS);
    this.sweepEveryMs =
      options.sweepEveryMs ?? Math.min(1000, Math.max(10, Math.floor(options.heartbeatIntervalMs / 10)));
    this.timer = this.clock.setInterval(() => this.sweep(), this.sweepEveryMs);
  }

  get size(): number {
    return this.targets.size;
  }

  /** Starts watching a device's session, replacing any earlier one (which is then simply forgotten). */
  track(id: string, target: PresenceTarget): void {
    target.lastSeen = this.clock.now();
    this.targets.set(id, target);
  }

  /** Stops watching; only if `target` is still the tracked one, so a replaced session cannot untrack its successor. */
  untrack(id: string, target: PresenceTarget): boolean {
    if (this.targets.get(id) !== target) return false;
    this.targets.delete(id);
    return true;
  }

  /** A frame arrived from the device. */
  touch(id: string): void {
    const target = this.targets.get(id);
    if (target) target.lastSeen = this.clock.now();
  }

  isTracked(id: string): boolean {
    return this.targets.has(id);
  }

  /**
   * The hub stopped reading device connections (backpressure): their silence is the hub's doing,
   * so nothing expires until `release()`, which counts every session as seen then.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const now = this.clock.now();
    for (const target of this.targets.values()) target.lastSeen = Math.max(target.lastSeen, now);
  }

  /** Expires every session silent for `timeoutMs` or longer. Runs on the timer; tests call it directly. Returns how many expired. */
  sweep(): number {
    if (this.held) return 0;
    const deadline = this.clock.now() - this.timeoutMs;
    let expired = 0;
    for (const [id, target] of this.targets) {
      if (target.lastSeen > deadline) continue;
      this.targets.delete(id);
      expired++;
      target.expire();
    }
    return expired;
  }

  /** Stops the sweep timer. Tracked sessions are left to their transport to close. */
  close(): void {
    this.timer.cancel();
  }
}
