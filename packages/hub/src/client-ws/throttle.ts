import type { Clock, TimerHandle, Throttle } from '@flotilla/protocol';

/**
 * Per-subject rate limiting for live subscriptions. A console showing 10,000 robots at 10 Hz does
 * not want 100,000 frames a second; it asks for `{rate, strategy}` and each subject is limited on
 * its own, so a chatty robot never starves a quiet one.
 *
 * - `sample`: pass a message when at least 1/rate s passed since the last one passed; drop the rest.
 * - `latest`: pass the first message at once, then at most one per 1/rate s: the newest received.
 * - `aggregate`: for telemetry (`data.metrics` of numbers), one message per window of 1/rate s with
 *   `{min,max,avg,last,count}` per metric. Anything else (status, events) has nothing to average
 *   and is handled as `latest`.
 */
export type Emit = (subject: string, data: unknown) => void;

export interface MetricSummary {
  min: number;
  max: number;
  avg: number;
  last: number;
  count: number;
}

/** What `aggregate` emits for a telemetry subject, once per window. */
export interface AggregatedTelemetry {
  /** Timestamp of the newest sample folded in (device clock, ms). */
  ts: number;
  window: { from: number; to: number; count: number };
  metrics: Record<string, MetricSummary>;
}

interface Accumulator {
  from: number;
  ts: number;
  count: number;
  metrics: Map<string, { min: number; max: number; sum: number; last: number; count: number }>;
}

interface SubjectState {
  /** When a message for this subject last went out. */
  lastEmit: number;
  timer: TimerHandle | undefined;
  /** Newest unsent value (`latest`, or `aggregate` on non-telemetry data). */
  pending: { data: unknown } | undefined;
  acc: Accumulator | undefined;
}

/** Idle subject states are forgotten once there are this many, so wildcard subscriptions stay bounded. */
const SWEEP_AT = 4096;

function telemetryMetrics(data: unknown): Record<string, unknown> | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const metrics = (data as { metrics?: unknown }).metrics;
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return undefined;
  return metrics as Record<string, unknown>;
}

export class Throttler {
  private readonly intervalMs: number;
  private readonly states = new Map<string, SubjectState>();
  private sweepAt = SWEEP_AT;
  private closed = false;

  constructor(
    readonly throttle: Throttle,
    private readonly clock: Clock,
    private readonly emit: Emit,
  ) {
    this.intervalMs = 1000 / throttle.rate;
  }

  push(subject: string, data: unknown): void {
    if (this.closed) return;
    const now = this.clock.now();
    let state = this.states.get(subject);
    if (!state) {
      if (this.states.size >= this.sweepAt) this.sweep(now);
      state = { lastEmit: -Infinity, timer: undefined, pending: undefined, acc: undefined };
      this.states.set(subject, state);
    }
    switch (this.throttle.strategy) {
      case 'sample':
        if (now - state.lastEmit >= this.intervalMs) this.send(state, subject, data, now);
        return;
      case 'latest':
        this.latest(state, subject, data, now);
        return;
      case 'aggregate': {
        const metrics = telemetryMetrics(data);
        if (metrics) this.accumulate(state, subject, data, metrics, now);
        else this.latest(state, subject, data, now);
        return;
      }
    }
  }

  /** Cancels every pending timer; nothing is emitted afterwards. */
  close(): void {
    this.closed = true;
    for (const state of this.states.values()) state.timer?.cancel();
    this.states.clear();
  }

  /** Subjects currently tracked (for tests and metrics). */
  get trackedSubjects(): number {
    return this.states.size;
  }

  private send(state: SubjectState, subject: string, data: unknown, now: number): void {
    state.lastEmit = now;
    this.emit(subject, data);
  }

  private latest(state: SubjectState, subject: string, data: unknown, now: number): void {
    if (!state.timer && now - state.lastEmit >= this.intervalMs) {
      this.send(state, subject, data, now);
      return;
    }
    state.pending = { data };
    if (!state.timer) this.schedule(state, subject, state.lastEmit + this.intervalMs - now);
  }

  private accumulate(
    state: SubjectState,
    subject: string,
    data: unknown,
    metrics: Record<string, unknown>,
    now: number,
  ): void {
    if (!state.acc) state.acc = { from: now, ts: now, count: 0, metrics: new Map() };
    const acc = state.acc;
    acc.count++;
    const ts = (data as { ts?: unknown }).ts;
    acc.ts = typeof ts === 'number' ? ts : now;
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const m = acc.metrics.get(name);
      if (!m) acc.metrics.set(name, { min: value, max: value, sum: value, last: value, count: 1 });
      else {
        if (value < m.min) m.min = value;
        if (value > m.max) m.max = value;
        m.sum += value;
        m.last = value;
        m.count++;
      }
    }
    // A window is 1/rate s long and starts with its first sample, so a subject that falls quiet
    // costs no timer.
    if (!state.timer) this.schedule(state, subject, this.intervalMs);
  }

  private schedule(state: SubjectState, subject: string, delayMs: number): void {
    state.timer = this.clock.setTimeout(() => this.flush(state, subject), Math.max(0, delayMs));
  }

  private flush(state: SubjectState, subject: string): void {
    state.timer = undefined;
    if (this.closed) return;
    const now = this.clock.now();
    if (state.acc) {
      const acc = state.acc;
      state.acc = undefined;
      const metrics: Record<string, MetricSummary> = {};
      for (const [name, m] of acc.metrics) {
        metrics[name] = { min: m.min, max: m.max, avg: m.sum / m.count, last: m.last, count: m.count };
      }
      const out: AggregatedTelemetry = { ts: acc.ts, window: { from: acc.from, to: now, count: acc.count }, metrics };
      this.send(state, subject, out, now);
    }
    if (state.pending) {
      const { data } = state.pending;
      state.pending = undefined;
      this.send(state, subject, data, now);
    }
  }

  /** Drops states that hold nothing and whose interval has passed: they behave like absent ones. */
  private sweep(now: number): void {
    for (const [subject, state] of this.states) {
      if (!state.timer && now - state.lastEmit >= this.intervalMs) this.states.delete(subject);
    }
    // When most subjects are busy the sweep frees little; doubling the threshold keeps the cost
    // of sweeping proportional to the number of subjects added.
    this.sweepAt = Math.max(SWEEP_AT, this.states.size * 2);
  }
}
