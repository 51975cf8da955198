import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, EventMetadata, StoredEvent, TimerHandle } from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import { counter, gauge } from '../http/instruments.js';
import type { HubMetrics } from '../metrics.js';
import type { CommandRow } from '../storage/commands.js';
import { DuplicateEventError } from '../storage/errors.js';
import type { NewEvent, Storage } from '../storage/types.js';

/**
 * Writes command records behind the commands themselves. A command goes to its device the moment
 * it is validated; its record (the `commands` row as it stands, and its events in order) is
 * queued here and written by the next flush, which takes everything queued since the last one:
 * one upsert of the rows and one append of the events, whatever the number of commands in
 * flight. So a command never waits for storage — not for an fsync, not behind a telemetry batch
 * holding SQLite's single writer — and a command that comes back within a flush costs one row
 * write for its three steps (issued, delivered, outcome).
 *
 * What this trades (docs/commands.md, "Records"): a hub killed between a command's send and the
 * next flush loses that command's record. Until a record is written the journal answers for it
 * (`unwritten`), so the API reads its own writes; `recorded(id)` waits for the write, for callers
 * that must hand the record to someone reading storage (another hub over NATS).
 *
 * A failed flush is retried with backoff, newer snapshots winning over the failed ones; while
 * storage stays away the queue is bounded (`full`), and the service refuses new commands.
 */

/** Records waiting past this refuse new commands until storage takes them. */
export const MAX_UNWRITTEN_RECORDS = 50_000;
/**
 * How long records gather before a flush (real time, like any write batching). A flush costs
 * about the same for one command as for twenty — the commit writes the same index pages — and
 * it runs on the event loop, between commands: batching keeps it off most of them.
 */
const FLUSH_DELAY_MS = 10;
/** Flush at once past this many queued records. */
const FLUSH_RECORDS = 1_000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

export interface CommandJournalOptions {
  storage: Pick<Storage, 'commands' | 'appendEvents'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
}

interface Flush {
  promise: Promise<void>;
  resolve(): void;
}

function flush(): Flush {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export class CommandJournal {
  readonly #o: CommandJournalOptions;
  /** Snapshots queued for the next flush, by command id (the newest wins). */
  #rows = new Map<string, CommandRow>();
  #events: NewEvent[] = [];
  /** Events of a flush that failed, appended alone at the next. */
  #failedEvents: NewEvent[] = [];
  /** Snapshots being written by the running flush. */
  #writing = new Map<string, CommandRow>();
  /** Settles when what is queued now has been written. */
  #next: Flush = flush();
  #current: Flush | undefined;
  #running: Promise<void> | undefined;
  #retryMs = 0;
  #retry: TimerHandle | undefined;
  #delay: NodeJS.Timeout | undefined;
  readonly #queued;
  readonly #failures;

  constructor(options: CommandJournalOptions) {
    this.#o = options;
    const registry = options.metrics.registry;
    this.#queued = gauge(registry, 'flotilla_command_records_unwritten', 'Command records waiting to be written');
    this.#failures = counter(
      registry,
      'flotilla_command_record_failures_total',
      'Flushes of command records that storage refused (retried)',
    );
  }

  /** Too much waits for storage: take no more commands until it drains. */
  get full(): boolean {
    return this.#rows.size + this.#writing.size >= MAX_UNWRITTEN_RECORDS;
  }

  /** Queues the record as it stands now, and the event of this step (stamped now). */
  record(row: CommandRow, event?: { type: string; data: Record<string, unknown>; metadata: EventMetadata }): void {
    this.#rows.set(row.id, { ...row });
    if (event) {
      this.#events.push({
        id: randomUUID(),
        aggregateId: row.deviceId,
        type: event.type,
        ts: this.#o.clock.now(),
        data: event.data,
        metadata: event.metadata,
      });
    }
    this.#schedule();
  }

  /** Queues an event of a command whose row does not change (a cancel request). */
  event(deviceId: string, type: string, data: Record<string, unknown>, metadata: EventMetadata): void {
    this.#events.push({ id: randomUUID(), aggregateId: deviceId, type, ts: this.#o.clock.now(), data, metadata });
    this.#schedule();
  }

  /** The record as last queued, while it is not in storage yet. */
  unwritten(id: string): CommandRow | undefined {
    const row = this.#rows.get(id) ?? this.#writing.get(id);
    return row && { ...row };
  }

  /** Records not in storage yet that match (for lists that must show them). */
  unwrittenWhere(match: (row: CommandRow) => boolean): CommandRow[] {
    const found = new Map<string, CommandRow>();
    for (const row of this.#writing.values()) if (match(row)) found.set(row.id, { ...row });
    for (const row of this.#rows.values()) if (match(row)) found.set(row.id, { ...row });
    return [...found.values()];
  }

  /** Resolves once everything queued for this command so far is in storage. */
  recorded(id: string): Promise<void> {
    if (this.#rows.has(id)) {
      // Taken before flushing: the flush starts at once and swaps in the promise of the one after.
      const next = this.#next.promise;
      this.#flushNow();
      return next;
    }
    if (this.#writing.has(id) && this.#current) return this.#current.promise;
    return Promise.resolve();
  }

  /** Writes what is queued now, trying storage twice more if it refuses; for shutdown. */
  async drain(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#running) await this.#running;
      if (this.#rows.size === 0 && this.#events.length === 0 && this.#failedEvents.length === 0) return;
      this.#retry?.cancel();
      this.#retry = undefined;
      clearTimeout(this.#delay);
      this.#delay = undefined;
      if (attempt === 2) {
        this.#o.logger.error(
          { records: this.#rows.size, events: this.#events.length },
          'stopping with command records storage did not take',
        );
        return;
      }
      this.#start();
    }
  }

  #schedule(): void {
    this.#queued.set(this.#rows.size + this.#writing.size);
    if (this.#rows.size >= FLUSH_RECORDS) this.#flushNow();
    else if (!this.#running && !this.#retry && !this.#delay) {
      this.#delay = setTimeout(() => this.#flushNow(), FLUSH_DELAY_MS);
    }
  }

  /** Starts a flush unless one runs (it takes what is queued when done) or storage is being waited for. */
  #flushNow(): void {
    clearTimeout(this.#delay);
    this.#delay = undefined;
    if (this.#running || this.#retry) return;
    this.#start();
  }

  #start(): void {
    this.#running = this.#run().finally(() => (this.#running = undefined));
  }

  async #run(): Promise<void> {
    while (this.#rows.size > 0 || this.#events.length > 0 || this.#failedEvents.length > 0) {
      const rows = this.#rows;
      const events = this.#events;
      const done = this.#next;
      this.#rows = new Map();
      this.#events = [];
      this.#next = flush();
      this.#writing = rows;
      this.#current = done;
      const retried = this.#failedEvents;
      this.#failedEvents = [];
      try {
        await this.#o.storage.commands.save([...rows.values()]);
        if (retried.length > 0) this.#publish(await this.#appendAgain(retried));
        this.#publish(await this.#o.storage.appendEvents(events));
        this.#retryMs = 0;
        done.resolve();
      } catch (err) {
        this.#failures.inc();
        // Put the batch back under what was queued meanwhile: newer snapshots win. Events that
        // failed are retried alone, ahead of the rest: their append may have committed after all.
        for (const [id, row] of rows) if (!this.#rows.has(id)) this.#rows.set(id, row);
        this.#failedEvents = [...retried, ...events];
        this.#next.promise.then(done.resolve, done.resolve);
        this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs === 0 ? RETRY_FIRST_MS : this.#retryMs * 2);
        this.#o.logger.error(
          { err, records: this.#rows.size, retryInMs: this.#retryMs },
          'cannot write command records; retrying',
        );
        this.#writing = new Map();
        this.#current = undefined;
        this.#retry = this.#o.clock.setTimeout(() => {
          this.#retry = undefined;
          this.#schedule();
        }, this.#retryMs);
        this.#queued.set(this.#rows.size);
        return;
      }
      this.#writing = new Map();
      this.#current = undefined;
    }
    this.#queued.set(0);
  }

  /** A failed append again: a DuplicateEventError says it had committed (it is one transaction). */
  async #appendAgain(events: NewEvent[]): Promise<StoredEvent[]> {
    try {
      return await this.#o.storage.appendEvents(events);
    } catch (err) {
      if (err instanceof DuplicateEventError) return [];
      throw err;
    }
  }

  #publish(stored: readonly StoredEvent[]): void {
    for (const event of stored) this.#o.bus.publish(`flotilla.${event.aggregateId}.event.${event.type}`, event);
  }
}
