import type { StoredEvent } from '@flotilla/protocol';
import type { NewEvent, Storage } from '../storage/types.js';

/**
 * Appends the registry's events with at most one `appendEvents` call in flight, batching what
 * callers submit meanwhile into the next call.
 *
 * Why not simply call `appendEvents` concurrently: the in-memory projection must apply events in
 * log order, and a snapshot must name a position below which every event is folded in. With
 * concurrent appends, completions could be observed out of position order (two PostgreSQL
 * transactions, say), and a snapshot taken between them would skip an event forever. With one
 * call at a time, "applied" is always a prefix of the registry's events in the log. Throughput
 * does not suffer: while one batch commits, the next one grows (group commit, one level up from
 * the storage's own).
 */
export class OrderedAppender {
  private queue: { events: readonly NewEvent[]; resolve(stored: StoredEvent[]): void; reject(err: unknown): void }[] =
    [];
  private running: Promise<void> | undefined;

  /**
   * `onCommitted` runs once per committed batch, in log order, before any submitter's promise
   * resolves: callers that await `submit` see the projection already updated.
   */
  constructor(
    private readonly storage: Pick<Storage, 'appendEvents'>,
    private readonly onCommitted: (stored: readonly StoredEvent[]) => void | Promise<void>,
    /** Told when `onCommitted` throws; the events are in the log and their submitters still resolve. */
    private readonly onError: (err: unknown) => void,
    /** Upper bound on events per append; one submission is never split. */
    private readonly maxBatch = 1000,
  ) {}

  submit(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.running ??= this.run();
    });
  }

  /** Resolves when everything submitted so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  get idle(): boolean {
    return this.running === undefined;
  }

  private async run(): Promise<void> {
    // Let the current turn's submissions join the first batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.take();
      const events = batch.length === 1 ? (batch[0]?.events ?? []) : batch.flatMap((b) => b.events);
      let stored: StoredEvent[];
      try {
        stored = await this.storage.appendEvents(events);
      } catch (err) {
        for (const b of batch) b.reject(err);
        continue;
      }
      try {
        // Synchronous unless the log is shared with other hubs (their events are folded first).
        const folding = this.onCommitted(stored);
        if (folding) await folding;
      } catch (err) {
        this.onError(err);
      }
      let at = 0;
      for (const b of batch) {
        b.resolve(stored.slice(at, at + b.events.length));
        at += b.events.length;
      }
    }
    this.running = undefined;
  }

  private take(): typeof this.queue {
    let count = 0;
    let taken = 0;
    while (taken < this.queue.length) {
      const size = this.queue[taken]?.events.length ?? 0;
      if (taken > 0 && count + size > this.maxBatch) break;
      count += size;
      taken++;
    }
    return this.queue.splice(0, taken);
  }
}
