import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, EventMetadata, TimerHandle } from '@flotilla/protocol';
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
 * A failed flush is retried with backoff, alone and as it was (newer snapshots follow in the next
 * flush); while storage stays away the queue is bounded (`full`), and the service refuses new
 * commands.
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
  storage: Pick<Storage, 'recordCommands'>;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
}

/** What one flush writes, and who waits for it. */
interface Batch {
  rows: Map<string, CommandRow>;
  events: NewEvent[];
  written: Promise<void>;
  resolve(): void;
}

function batch(): Batch {
  let resolve!: () => void;
  const written = new Promise<void>((r) => (resolve = r));
  return { rows: new Map(), events: [], written, resolve };
}

export class CommandJournal {
  readonly #o: CommandJournalOptions;
  /** Queued for the next flush: snapshots by command id (the newest wins), events in order. */
  #queued: Batch = batch();
  /** The batch being written now. */
  #writing: Batch | undefined;
  /** A batch storage refused: written again, alone, before anything queued after it. */
  #failed: Batch | undefined;
  #running: Promise<void> | undefined;
  #retryMs = 0;
  #retry: TimerHandle | undefined;
  #delay: NodeJS.Timeout | undefined;
  readonly #unwrittenGauge;
  readonly #failures;

  constructor(options: CommandJournalOptions) {
    this.#o = options;
    const registry = options.metrics.registry;
    this.#unwrittenGauge = gauge(
      registry,
      'flotilla_command_records_unwritten',
      'Command records waiting to be written',
    );
    this.#failures = counter(
      registry,
      'flotilla_command_record_failures_total',
      'Flushes of command records that storage refused (retried)',
    );
  }

  /** Too much waits for storage: take no more commands until it drains. */
  get full(): boolean {
    return this.#unwritten() >= MAX_UNWRITTEN_RECORDS;
  }

  /** Queues the record as it stands now, and the event of this step (stamped now). */
  record(row: CommandRow, event?: { type: string; data: Record<string, unknown>; metadata: EventMetadata }): void {
    this.#queued.rows.set(row.id, { ...row });
    if (event) this.event(row.deviceId, event.type, event.data, event.metadata);
    else this.#schedule();
  }

  /** Queues an event of a command (stamped now); a cancel request changes no row. */
  event(deviceId: string, type: string, data: Record<string, unknown>, metadata: EventMetadata): void {
    this.#queued.events.push({
      id: randomUUID(),
      aggregateId: deviceId,
      type,
      ts: this.#o.clock.now(),
      data,
      metadata,
    });
    this.#schedule();
  }

  /** The record as last queued, while it is not in storage yet. */
  unwritten(id: string): CommandRow | undefined {
    const row = this.#queued.rows.get(id) ?? this.#writing?.rows.get(id) ?? this.#failed?.rows.get(id);
    return row && { ...row };
  }

  /** Records not in storage yet that match (for lists that must show them), newest state of each. */
  unwrittenWhere(match: (row: CommandRow) => boolean): CommandRow[] {
    const found = new Map<string, CommandRow>();
    for (const b of [this.#failed, this.#writing, this.#queued]) {
      if (b) for (const row of b.rows.values()) if (match(row)) found.set(row.id, { ...row });
    }
    return [...found.values()];
  }

  /** Resolves once everything queued for this command so far is in storage. */
  recorded(id: string): Promise<void> {
    if (this.#queued.rows.has(id)) {
      const written = this.#queued.written;
      this.#flushNow();
      return written;
    }
    const pending = [this.#writing, this.#failed].find((b) => b?.rows.has(id));
    return pending ? pending.written : Promise.resolve();
  }

  /** Writes what is queued now, trying storage twice more if it refuses; for shutdown. */
  async drain(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#running) await this.#running;
      if (this.#failed === undefined && this.#isEmpty(this.#queued)) return;
      this.#retry?.cancel();
      this.#retry = undefined;
      clearTimeout(this.#delay);
      this.#delay = undefined;
      if (attempt === 2) {
        this.#o.logger.error({ records: this.#unwritten() }, 'stopping with command records storage did not take');
        return;
      }
      this.#start();
    }
  }

  #unwritten(): number {
    return this.#queued.rows.size + (this.#writing?.rows.size ?? 0) + (this.#failed?.rows.size ?? 0);
  }

  #isEmpty(b: Batch): boolean {
    return b.rows.size === 0 && b.events.length === 0;
  }

  #schedule(): void {
    this.#unwrittenGauge.set(this.#unwritten());
    if (this.#queued.rows.size >= FLUSH_RECORDS) this.#flushNow();
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
    for (;;) {
      const retry = this.#failed !== undefined;
      const current = this.#failed ?? this.#queued;
      if (this.#isEmpty(current)) break;
      if (retry) this.#failed = undefined;
      else this.#queued = batch();
      this.#writing = current;
      try {
        const stored = await this.#o.storage.recordCommands([...current.rows.values()], current.events);
        for (const event of stored) this.#o.bus.publish(`flotilla.${event.aggregateId}.event.${event.type}`, event);
        this.#retryMs = 0;
      } catch (err) {
        // A refused batch whose events are stored already had committed (the transaction is
        // one): only its answer was lost.
        if (!(retry && err instanceof DuplicateEventError)) {
          this.#writing = undefined;
          this.#failed = current;
          this.#failures.inc();
          this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs === 0 ? RETRY_FIRST_MS : this.#retryMs * 2);
          this.#o.logger.error(
            { err, records: this.#unwritten(), retryInMs: this.#retryMs },
            'cannot write command records; retrying',
          );
          this.#retry = this.#o.clock.setTimeout(() => {
            this.#retry = undefined;
            this.#flushNow();
          }, this.#retryMs);
          break;
        }
      }
      this.#writing = undefined;
      current.resolve();
    }
    this.#unwrittenGauge.set(this.#unwritten());
  }
}
