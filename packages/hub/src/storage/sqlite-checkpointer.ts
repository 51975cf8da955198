import { once } from 'node:events';
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop. A checkpoint copies committed pages from the WAL into the
 * database file and syncs it; SQLite runs one inside whichever commit takes the WAL past
 * `wal_autocheckpoint` pages, so with node:sqlite's synchronous API the hub's event loop used to
 * stop for it (telemetry commits write thousands of pages: one in three or four ran a checkpoint;
 * measured, without them the storage path wrote 42% fewer bytes and ran 25-35% faster). A
 * worker thread with its own connection checkpoints every CHECKPOINT_INTERVAL_MS instead; the
 * hub's connection keeps a high `wal_autocheckpoint` as a backstop, and goes back to SQLite's
 * default if the worker fails. Durability does not change: the worker's connection syncs the
 * WAL before it copies frames (`synchronous = full`), and writes wait for wal-sync.ts's sync.
 */

const CHECKPOINT_INTERVAL_MS = 100;
/** Pages: the WAL the hub's own connection lets grow before it checkpoints anyway (80 MiB of 4 KiB pages). */
const BACKSTOP_PAGES = 20_000;
/** SQLite's default, for when the worker is gone. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export interface Checkpointer {
  /** Stops the worker and waits for its connection to close. */
  stop(): Promise<void>;
}

export function startCheckpointer(database: DatabaseSync, file: string, busyTimeoutMs: number): Checkpointer {
  database.exec(`pragma wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const worker = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), {
    workerData: { file, intervalMs: CHECKPOINT_INTERVAL_MS, busyTimeoutMs },
    // It needs no flag, and some of the process's cannot start a worker (`--input-type` with `-e`).
    execArgv: [],
  });
  // Never what keeps a process alive: storage.close() stops it.
  worker.unref();
  const exited = once(worker, 'exit');
  let alive = true;
  const fallBack = () => {
    if (!alive) return;
    alive = false;
    if (database.isOpen) database.exec(`pragma wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('message', (message: { failed?: string }) => {
    if (message.failed !== undefined) fallBack();
  });
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return {
    async stop() {
      // Held by the exit it waits for: an unreferenced worker's exit never comes to an idle loop.
      worker.ref();
      if (alive) worker.postMessage({ stop: true });
      alive = false;
      await exited;
    },
  };
}
