import { close, fdatasync, openSync } from 'node:fs';

/**
 * Makes SQLite commits durable without stopping the event loop. node:sqlite is synchronous, so
 * with `synchronous = full` every commit ran its fsync on the hub's main thread: 0.2 ms on an
 * idle disk, tens of milliseconds on a busy one, during which no socket was read, no command
 * answered. The connection commits with `synchronous = normal` instead (WAL frames written, not
 * synced: safe against a killed process, not yet against a power cut), and whoever must not
 * answer before the commit is durable waits for `sync()`: an fdatasync of the WAL file on libuv's
 * thread pool, which flushes every frame written before it started (fsync is per file, not per
 * descriptor). The dialect (node-sqlite-dialect.ts) holds the connection until then, so nothing
 * reads a commit a power cut could undo; only the event loop is free meanwhile.
 *
 * Checkpoints stay safe as before: the checkpoint worker's connection (synchronous = full) syncs
 * the WAL before it copies frames into the database file.
 */
export class WalSync {
  readonly #fd: number;
  /** An fdatasync is running (for callers who asked before it started). */
  #running = false;
  /** Callers who asked while a sync was running: the next sync is theirs. */
  #waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #closed = false;

  /** `walFile`: the database's `-wal` file, which exists once WAL mode is on. */
  constructor(walFile: string) {
    this.#fd = openSync(walFile, 'r');
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the database is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#running) this.#start();
    });
  }

  /** Waits for the syncs asked for, then closes the descriptor. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#running) await this.sync().catch(() => undefined);
    this.#closed = true;
    await new Promise<void>((resolve) => close(this.#fd, () => resolve()));
  }

  #start(): void {
    const callers = this.#waiting;
    this.#waiting = [];
    this.#running = true;
    fdatasync(this.#fd, (error) => {
      this.#running = false;
      for (const caller of callers) {
        if (error) caller.reject(new Error(`cannot sync the write-ahead log: ${error.message}`, { cause: error }));
        else caller.resolve();
      }
      if (this.#waiting.length > 0) this.#start();
    });
  }
}
