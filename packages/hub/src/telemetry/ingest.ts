import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from '@flotilla/protocol';
import type { TelemetryWrite, WriteOutcome } from '../storage/telemetry-types.js';
import type { TelemetryMetrics } from './metrics.js';
import { RefusalReasons, validateMessages, type Refusal, type TelemetryMessage } from './validate.js';

/**
 * The one path telemetry takes from every transport to storage: validate → bounded queue →
 * batch writer → storage. `submit` resolves after the durable write (or with refusals); the
 * queue is bounded in points, and `pressure` tells transports when to stop reading their
 * sockets (`full`) and when to resume (`ok`). Past the hard limit a call is refused whole with
 * `overloaded` — never queued without bound, never dropped without saying so.
 */

export type Pressure = 'ok' | 'full';

export interface IngestResult {
  /** Seqs of messages now durably stored, including duplicates (stored by an earlier call). */
  acked: number[];
  /** Seqs acknowledged without writing: (device, seq) was stored before. A subset of `acked`. */
  duplicates: number[];
  /** What was not stored, and why; the rest of the call was. */
  refused: Refusal[];
  /** Points and samples written by this call. */
  written: number;
}

/** What the ingest needs from storage (the hub passes `storage.telemetry`). */
export interface TelemetryWriteTarget {
  write(items: readonly TelemetryWrite[]): Promise<WriteOutcome[]>;
}

export interface TelemetryIngestOptions {
  store: TelemetryWriteTarget;
  clock?: Clock;
  metrics?: TelemetryMetrics;
  logger?: Logger;
  /** How far ahead of the hub's clock a message's `ts` may be (default 5 min). */
  maxFutureMs?: number;
  /** How far behind the hub's clock a message's `ts` may be (default 7 days, the raw retention). */
  maxPastMs?: number;
  /** Points + samples one `submit` may carry (default 10,000); messages past it are refused. */
  maxSubmitPoints?: number;
  /**
   * Points + samples per write transaction (default 50,000; a call is never split). The writer
   * takes what is queued up to this, so batches grow with the load: a bigger transaction writes
   * each index page once for more points (measured in BENCHMARKS.md).
   */
  writeBatchPoints?: number;
  /** Queue size at which `pressure` becomes `full` (default 100,000 points). */
  highWaterPoints?: number;
  /** Queue size at which `pressure` returns to `ok` (default half the high water mark). */
  lowWaterPoints?: number;
  /** Hard limit: a call that would take the queue past it is refused `overloaded` (default 2 × high water). */
  maxQueuedPoints?: number;
  /** Largest sample, as JSON (default 64 KiB). */
  maxSampleBytes?: number;
}

export const INGEST_DEFAULTS = {
  maxFutureMs: 5 * 60_000,
  maxPastMs: 7 * 86_400_000,
  maxSubmitPoints: 10_000,
  writeBatchPoints: 50_000,
  highWaterPoints: 100_000,
  maxSampleBytes: 64 * 1024,
} as const;

export interface TelemetryIngestEvents {
  pressure: [Pressure];
}

interface Pending {
  writes: TelemetryWrite[];
  indexes: number[];
  refused: Refusal[];
  size: number;
  /** performance.now() at submit. */
  queuedAt: number;
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

export class TelemetryIngest extends EventEmitter<TelemetryIngestEvents> {
  readonly #store: TelemetryWriteTarget;
  readonly #clock: Clock;
  readonly #metrics: TelemetryMetrics | undefined;
  readonly #log: Logger;
  readonly #limits: { maxFutureMs: number; maxPastMs: number; maxBatchPoints: number; maxSampleBytes: number };
  readonly #writeBatchPoints: number;
  readonly #highWater: number;
  readonly #lowWater: number;
  readonly #maxQueued: number;
  #queue: Pending[] = [];
  #queued = 0;
  #pressure: Pressure = 'ok';
  #running: Promise<void> | undefined;
  #closing = false;

  constructor(options: TelemetryIngestOptions) {
    super();
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
    this.#log = options.logger ?? pino({ enabled: false });
    this.#limits = {
      maxFutureMs: options.maxFutureMs ?? INGEST_DEFAULTS.maxFutureMs,
      maxPastMs: options.maxPastMs ?? INGEST_DEFAULTS.maxPastMs,
      maxBatchPoints: options.maxSubmitPoints ?? INGEST_DEFAULTS.maxSubmitPoints,
      maxSampleBytes: options.maxSampleBytes ?? INGEST_DEFAULTS.maxSampleBytes,
    };
    this.#writeBatchPoints = options.writeBatchPoints ?? INGEST_DEFAULTS.writeBatchPoints;
    this.#highWater = options.highWaterPoints ?? INGEST_DEFAULTS.highWaterPoints;
    this.#lowWater = options.lowWaterPoints ?? Math.floor(this.#highWater / 2);
    this.#maxQueued = options.maxQueuedPoints ?? this.#highWater * 2;
    if (!(this.#lowWater < this.#highWater && this.#highWater <= this.#maxQueued)) {
      throw new RangeError('telemetry ingest needs lowWaterPoints < highWaterPoints <= maxQueuedPoints');
    }
  }

  /** `full` from the moment the queue reaches the high water mark until it drains to the low one. */
  get pressure(): Pressure {
    return this.#pressure;
  }

  /** Points and samples waiting to be written. */
  get queuedPoints(): number {
    return this.#queued;
  }

  /**
   * Validates the device's messages, queues what passes and resolves once it is durably stored
   * (with the acked seqs and every refusal). Rejects only when storage fails (nothing of the call
   * is then acknowledged; the device sends it again).
   */
  submit(device: string, messages: readonly TelemetryMessage[]): Promise<IngestResult> {
    if (this.#closing)
      return Promise.resolve(this.#refuseAll(messages, RefusalReasons.SHUTTING_DOWN, 'the hub is shutting down'));
    const validated = validateMessages(device, messages, { now: this.#clock.now(), ...this.#limits });
    if (validated.size > 0 && this.#queued + validated.size > this.#maxQueued) {
      return Promise.resolve(
        this.#refuseAll(messages, RefusalReasons.OVERLOADED, 'the telemetry queue is full; send again later'),
      );
    }
    this.#count(validated.refusals);
    if (validated.writes.length === 0) {
      return Promise.resolve({ acked: [], duplicates: [], refused: validated.refusals, written: 0 });
    }
    return new Promise<IngestResult>((resolve, reject) => {
      this.#queue.push({ ...validated, refused: validated.refusals, queuedAt: performance.now(), resolve, reject });
      this.#queued += validated.size;
      this.#metrics?.queued.set(this.#queued);
      if (this.#pressure === 'ok' && this.#queued >= this.#highWater) this.#setPressure('full');
      // setImmediate, not a microtask: submits from every socket read in this loop turn join one batch.
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#run());
    });
  }

  /** Refuses new calls and resolves once everything queued is written (or has failed). */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      const writes = batch.flatMap((pending) => pending.writes);
      const size = batch.reduce((sum, pending) => sum + pending.size, 0);
      const started = performance.now();
      let outcomes: WriteOutcome[] | undefined;
      let failure: unknown;
      try {
        outcomes = await this.#store.write(writes);
      } catch (error) {
        failure = error;
      }
      this.#metrics?.writeSeconds.observe((performance.now() - started) / 1000);
      this.#metrics?.batchSize.observe(size);
      this.#queued -= size;
      this.#metrics?.queued.set(this.#queued);
      if (this.#pressure === 'full' && this.#queued <= this.#lowWater) this.#setPressure('ok');
      if (outcomes === undefined) {
        this.#metrics?.writeFailures.inc();
        this.#log.error({ err: failure, points: size }, 'cannot write telemetry');
        for (const pending of batch) pending.reject(failure);
        continue;
      }
      let offset = 0;
      const written = performance.now();
      for (const pending of batch) {
        this.#metrics?.ingestSeconds.observe((written - pending.queuedAt) / 1000);
        pending.resolve(this.#result(pending, outcomes.slice(offset, offset + pending.writes.length)));
        offset += pending.writes.length;
      }
    }
    this.#running = undefined;
  }

  #result(pending: Pending, outcomes: readonly WriteOutcome[]): IngestResult {
    const result: IngestResult = { acked: [], duplicates: [], refused: pending.refused, written: 0 };
    let points = 0;
    let samples = 0;
    pending.writes.forEach((write, i) => {
      const duplicate = outcomes[i] === 'duplicate';
      if (write.seq !== undefined) {
        result.acked.push(write.seq);
        if (duplicate) result.duplicates.push(write.seq);
      }
      if (duplicate) return;
      points += write.points.length;
      samples += write.samples.length;
    });
    result.written = points + samples;
    this.#metrics?.pointsWritten.inc(points);
    this.#metrics?.samplesWritten.inc(samples);
    if (result.duplicates.length > 0) this.#metrics?.duplicates.inc(result.duplicates.length);
    return result;
  }

  /** Whole calls, oldest first, up to the batch size (at least one call). */
  #take(): Pending[] {
    let size = 0;
    let taken = 0;
    while (taken < this.#queue.length) {
      const next = this.#queue[taken]?.size ?? 0;
      if (taken > 0 && size + next > this.#writeBatchPoints) break;
      size += next;
      taken++;
    }
    return this.#queue.splice(0, taken);
  }

  #refuseAll(messages: readonly TelemetryMessage[], reason: Refusal['reason'], message: string): IngestResult {
    const refused = messages.map((m, index): Refusal => {
      const refusal: Refusal = { index, reason, message };
      if (m.seq !== undefined && Number.isSafeInteger(m.seq)) refusal.seq = m.seq;
      return refusal;
    });
    this.#count(refused);
    return { acked: [], duplicates: [], refused, written: 0 };
  }

  #count(refusals: readonly Refusal[]): void {
    if (!this.#metrics) return;
    for (const refusal of refusals) this.#metrics.refused.inc({ reason: refusal.reason });
  }

  #setPressure(pressure: Pressure): void {
    this.#pressure = pressure;
    this.#metrics?.pressure.set(pressure === 'full' ? 1 : 0);
    this.emit('pressure', pressure);
  }
}
