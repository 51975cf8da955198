import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The SQLite checkpointer's thread (sqlite-checkpointer.ts): its own connection to the database
 * file, copying committed WAL frames into the file every `intervalMs` (PASSIVE: it never waits
 * for, nor blocks, the hub's writer or readers). It only copies what is already durable in the WAL.
 */

interface Options {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
}

const { file, intervalMs, busyTimeoutMs } = workerData as Options;
const database = new DatabaseSync(file, { timeout: busyTimeoutMs });
// Said, not assumed: the hub's connection commits with `normal` (wal-sync.ts syncs its WAL), and
// a checkpoint at `full` syncs the WAL before it copies frames into the database file.
database.exec('pragma synchronous = full');
const checkpoint = database.prepare('pragma wal_checkpoint(passive)');

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    // The hub's connection checkpoints by itself again; this thread has nothing left to do.
    clearInterval(timer);
    database.close();
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
}, intervalMs);

parentPort?.on('message', (message: { stop?: boolean }) => {
  if (!message.stop) return;
  clearInterval(timer);
  if (database.isOpen) database.close();
  parentPort?.close();
});
