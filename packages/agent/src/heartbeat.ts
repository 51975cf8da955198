import type { Clock, TimerHandle } from '@flotilla/protocol';

/** Missed heartbeat intervals (no frame at all from the hub) before the link is presumed dead. */
const DEAD_AFTER_INTERVALS = 3;

/**
 * A session's heartbeat: the timer, when the hub was last heard from (any frame or ping), and the
 * round trip of the latest heartbeat. Only the latest heartbeat is timed: an ack for an older one
 * arrives after a newer one was sent and would measure nothing useful, and one pending pair keeps
 * the agent small.
 */
export class Heartbeat {
  intervalMs = 0;
  /** Round trip of the last acknowledged heartbeat (ms), once one was measured. */
  rtt: number | undefined;
  private lastInboundAt = 0;
  private pingSeq = -1;
  private pingAt = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly onRttSample: ((rttMs: number) => void) | undefined,
  ) {}

  /** A session is up: beat every `intervalMs` (the hub's, from its welcome). */
  start(intervalMs: number, beat: () => void): void {
    this.intervalMs = intervalMs;
    this.pingSeq = -1;
    this.timer = this.clock.setInterval(beat, intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Something came from the hub: it is alive. */
  heard(): void {
    this.lastInboundAt = this.clock.now();
  }

  /** How long the hub has been silent (ms) when that is long enough to presume the link dead. */
  deadFor(): number | undefined {
    const silent = this.clock.now() - this.lastInboundAt;
    return silent >= DEAD_AFTER_INTERVALS * this.intervalMs ? silent : undefined;
  }

  /** A heartbeat went out as frame `seq`: time it. */
  sent(seq: number): void {
    this.pingSeq = seq;
    this.pingAt = this.clock.now();
  }

  acked(seq: number): void {
    if (seq !== this.pingSeq) return;
    this.pingSeq = -1;
    this.rtt = this.clock.now() - this.pingAt;
    this.onRttSample?.(this.rtt);
  }
}
