import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { StatementCache } from './sqlite-statements.js';
import { unpackBlobs, type SqliteThreadOptions, type ThreadReply, type ThreadRequest } from './sqlite-thread.js';

/**
 * The thread that owns the hub's read-write SQLite connection (sqlite-thread.ts). It runs each
 * statement it is sent, in the order sent, and answers with its rows, its change count or its
 * error. Everything SQLite does (parsing, B-tree work, writing WAL frames at COMMIT, waiting on
 * a lock held by another process) happens here, never on the hub's event loop.
 */

const { file, busyTimeoutMs, pragmas } = workerData as SqliteThreadOptions;
const port = parentPort;
if (port === null) throw new Error('sqlite-thread-worker.js runs as a worker thread');

let database: DatabaseSync | undefined;
let statements: StatementCache | undefined;
let openError: ThreadReply['error'];
try {
  database = new DatabaseSync(file, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
  for (const pragma of pragmas) database.exec(pragma);
  statements = new StatementCache(database);
} catch (error) {
  if (database?.isOpen) database.close();
  database = undefined;
  openError = serialise(error);
}

port.on('message', (request: ThreadRequest) => {
  if ('close' in request) {
    if (database?.isOpen) database.close();
    port.postMessage({ id: request.id } satisfies ThreadReply);
    port.close();
    return;
  }
  if (statements === undefined) {
    port.postMessage({ id: request.id, error: openError } satisfies ThreadReply);
    return;
  }
  let reply: ThreadReply;
  try {
    const params = request.blobs === undefined ? request.params : unpackBlobs(request.params, request.blobs);
    reply = { id: request.id, result: statements.run(request.sql, params) };
  } catch (error) {
    reply = { id: request.id, error: serialise(error) };
  }
  port.postMessage(reply);
});

/**
 * Errors cross the thread boundary as their fields: a structured clone of an Error keeps its
 * message but drops node:sqlite's `errcode`, which the storage layer reads (unique violations).
 */
function serialise(error: unknown): NonNullable<ThreadReply['error']> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields = error as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  return {
    message: error.message,
    ...(typeof fields.code === 'string' && { code: fields.code }),
    ...(typeof fields.errcode === 'number' && { errcode: fields.errcode }),
    ...(typeof fields.errstr === 'string' && { errstr: fields.errstr }),
  };
}
