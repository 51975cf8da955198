/**
 * Group commit: appends submitted while the previous transaction runs, or in the same turn of
 * the event loop, share one transaction (and one fsync). When 5,000 devices connect at once,
 * the hub writes a few large transactions instead of thousands of small ones, and each caller
 * still gets its own result.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Commits several callers' items together; returns one outcome per caller, in order. */
export type CommitBatch<I, O> = (batch: readonly (readonly I[])[]) => Promise<Settled<O[]>[]>;

interface Pending<I, O> {
  items: readonly I[];
  resolve(value: O[]): void;
  reject(error: unknown): void;
}

export class GroupCommit<I, O> {
  readonly #commit: CommitBatch<I, O>;
  readonly #maxItems: number;
  #queue: Pending<I, O>[] = [];
  #running: Promise<void> | undefined;

  /** `maxItems` bounds one transaction (a caller's items are never split). */
  constructor(commit: CommitBatch<I, O>, maxItems: number) {
    this.#commit = commit;
    this.#maxItems = maxItems;
  }

  submit(items: readonly I[]): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      this.#queue.push({ items, resolve, reject });
      // setImmediate, not a microtask: it runs after every I/O callback of this loop turn, so
      // frames that arrived together on different sockets join one batch.
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#run());
    });
  }

  /** Resolves once everything submitted so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      let outcomes: Settled<O[]>[];
      try {
        outcomes = await this.#commit(batch.map((pending) => pending.items));
      } catch (error) {
        outcomes = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach((pending, i) => {
        const outcome = outcomes[i] ?? { ok: false, error: new Error('group commit lost an outcome') };
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
    }
    this.#running = undefined;
  }

  #take(): Pending<I, O>[] {
    let count = 0;
    let taken = 0;
    while (taken < this.#queue.length) {
      const size = this.#queue[taken]?.items.length ?? 0;
      if (taken > 0 && count + size > this.#maxItems) break;
      count += size;
      taken++;
    }
    return this.#queue.splice(0, taken);
  }
}
