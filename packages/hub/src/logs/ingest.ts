import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { logLevelName, systemClock, type Clock } from '@flotilla/protocol';
import { GroupCommit, type Settled } from '../storage/group-commit.js';
import type { NewLogLine, StoredLogLine } from '../storage/logs.js';
import type { LogMetrics } from './metrics.js';
import { LOG_DEFAULTS, type ResolvedLogSettings } from './settings.js';
import { LogRefusalReasons, checkLogLine, type LogLineInput, type LogRefusalReason } from './validate.js';

/**
 * The one path device logs take from every transport to storage: validate → bounded queue →
 * group-committed batch writes. `submit` never blocks the caller: it resolves once the line is
 * stored (with the stored line) or refused (with the reason). The queue is bounded in lines;
 * past the bound a line is refused `overloaded` and counted, never queued without bound and
 * never dropped without saying so.
 */

export type LogOutcome = { ok: true; line: StoredLogLine } | { ok: false; reason: LogRefusalReason; message: string };

/** What the ingest needs from storage (the hub passes `storage.logs`). */
export interface LogWriteTarget {
  write(lines: readonly NewLogLine[]): Promise<number[]>;
}

export interface LogIngestOptions {
  store: LogWriteTarget;
  settings?: Partial<Pick<ResolvedLogSettings, 'maxFieldsBytes' | 'maxQueuedLines' | 'maxFutureMs' | 'retentionMs'>>;
  clock?: Clock;
  metrics?: LogMetrics;
  logger?: Logger;
  /** Lines per write transaction at most (default 5,000). */
  writeBatchLines?: number;
}

export class LogIngest {
  readonly #clock: Clock;
  readonly #metrics: LogMetrics | undefined;
  readonly #log: Logger;
  readonly #limits: { maxFutureMs: number; maxPastMs: number; maxFieldsBytes: number };
  readonly #maxQueued: number;
  readonly #commit: GroupCommit<NewLogLine, number>;
  #queued = 0;
  #closing = false;

  constructor(options: LogIngestOptions) {
    const settings = options.settings ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics;
    this.#log = options.logger ?? pino({ enabled: false });
    this.#limits = {
      maxFutureMs: settings.maxFutureMs ?? LOG_DEFAULTS.maxFutureMs,
      maxPastMs: settings.retentionMs ?? LOG_DEFAULTS.retentionMs,
      maxFieldsBytes: settings.maxFieldsBytes ?? LOG_DEFAULTS.maxFieldsBytes,
    };
    this.#maxQueued = settings.maxQueuedLines ?? LOG_DEFAULTS.maxQueuedLines;
    const store = options.store;
    this.#commit = new GroupCommit((batch) => this.#write(store, batch), options.writeBatchLines ?? 5_000);
  }

  /** Lines waiting to be written. */
  get queuedLines(): number {
    return this.#queued;
  }

  submit(device: string, input: LogLineInput): Promise<LogOutcome> {
    if (this.#closing)
      return Promise.resolve(this.#refuse(LogRefusalReasons.SHUTTING_DOWN, 'the hub is shutting down'));
    const checked = checkLogLine(device, input, { now: this.#clock.now(), ...this.#limits });
    if (!checked.ok) return Promise.resolve(this.#refuse(checked.reason, checked.message));
    if (this.#queued >= this.#maxQueued)
      return Promise.resolve(this.#refuse(LogRefusalReasons.OVERLOADED, 'the log queue is full; send it again later'));
    const line = checked.line;
    this.#setQueued(this.#queued + 1);
    return this.#commit.submit([line]).then(
      ([id]): LogOutcome => {
        this.#setQueued(this.#queued - 1);
        this.#metrics?.written.inc({ level: logLevelName(line.level) });
        return { ok: true, line: { ...line, id: id as number, fields: line.fields ?? null } };
      },
      (err: unknown): LogOutcome => {
        this.#setQueued(this.#queued - 1);
        return this.#refuse(LogRefusalReasons.WRITE_FAILED, `storage failed: ${(err as Error).message}`);
      },
    );
  }

  /** Refuses new lines and resolves once everything queued is written (or has failed). */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#commit.drain();
  }

  async #write(store: LogWriteTarget, batch: readonly (readonly NewLogLine[])[]): Promise<Settled<number[]>[]> {
    const lines = batch.flat();
    const started = performance.now();
    try {
      const ids = await store.write(lines);
      let offset = 0;
      return batch.map((items) => {
        const value = ids.slice(offset, offset + items.length);
        offset += items.length;
        return { ok: true, value };
      });
    } catch (error) {
      this.#metrics?.writeFailures.inc();
      this.#log.error({ err: error, lines: lines.length }, 'cannot write device logs');
      return batch.map(() => ({ ok: false, error }));
    } finally {
      this.#metrics?.writeSeconds.observe((performance.now() - started) / 1000);
      this.#metrics?.batchSize.observe(lines.length);
    }
  }

  #refuse(reason: LogRefusalReason, message: string): LogOutcome {
    this.#metrics?.refused.inc({ reason });
    return { ok: false, reason, message };
  }

  #setQueued(queued: number): void {
    this.#queued = queued;
    this.#metrics?.queued.set(queued);
  }
}
