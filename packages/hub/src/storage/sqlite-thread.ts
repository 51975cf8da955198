import { once } from 'node:events';
import type { SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { SqliteStatements, StatementResult } from './sqlite-statements.js';

/**
 * The hub's read-write SQLite connection, on a thread of its own (sqlite-thread-worker.ts).
 * node:sqlite is synchronous: on the main thread every statement stopped the event loop while it
 * ran, and under telemetry load that was a quarter of the loop's time, in stops of up to 20 ms
 * (a COMMIT writing thousands of WAL frames), during which no socket was read and no command
 * answered. Here a statement costs the event loop a message each way; SQLite's work runs beside it.
 *
 * Statements run one at a time in the order they are sent, as on one connection; the dialect's
 * mutex (node-sqlite-dialect.ts) still gives a transaction the connection from BEGIN to COMMIT.
 */

export interface SqliteThreadOptions {
  file: string;
  busyTimeoutMs: number;
  /** Run once the connection is open, before any statement (synchronous, cache size, ...). */
  pragmas: readonly string[];
}

export type ThreadRequest =
  { id: number; sql: string; params: SQLInputValue[]; blobs?: PackedBlobs } | { id: number; close: true };

/**
 * The blob parameters of a statement, packed: their bytes one after the other in `bytes`, and
 * for each, its parameter's index, offset and length in `at` (both buffers are transferred, not
 * copied). Cloned one by one, a 512-row INSERT of telemetry frames cost the event loop more
 * than the rest of its round trip.
 */
export interface PackedBlobs {
  bytes: ArrayBuffer;
  at: Uint32Array<ArrayBuffer>;
}

export interface ThreadReply {
  id: number;
  result?: StatementResult;
  error?: { message: string; code?: string; errcode?: number; errstr?: string };
}

interface Pending {
  resolve(result: StatementResult | undefined): void;
  reject(error: Error): void;
}

export class SqliteThread implements SqliteStatements {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<unknown>;
  #nextId = 1;
  /** Why the thread can take no more statements (it failed, or was closed). */
  #stopped: Error | undefined;

  constructor(options: SqliteThreadOptions) {
    this.#worker = new Worker(new URL('./sqlite-thread-worker.js', import.meta.url), {
      workerData: options,
      // It needs no flag, and some of the process's cannot start a worker (`--input-type` with `-e`).
      execArgv: [],
    });
    // Like a socket: it keeps the process alive only while a statement is waiting for it.
    this.#worker.unref();
    this.#exited = once(this.#worker, 'exit');
    this.#worker.on('message', (reply: ThreadReply) => this.#settle(reply));
    this.#worker.on('error', (error) =>
      this.#fail(new Error(`the SQLite thread failed: ${error.message}`, { cause: error })),
    );
    this.#worker.on('exit', (code) => this.#fail(new Error(`the SQLite thread exited (${code})`)));
  }

  execute(sql: string, parameters: readonly SQLInputValue[]): Promise<StatementResult> {
    const blobs = packBlobs(parameters);
    if (blobs === undefined) return this.#ask({ sql, params: [...parameters] }) as Promise<StatementResult>;
    // The blobs travel in `blobs`; their places in the parameters are left null.
    const params = parameters.map((value) => (ArrayBuffer.isView(value) ? null : value));
    return this.#ask({ sql, params, blobs }, [blobs.bytes, blobs.at.buffer]) as Promise<StatementResult>;
  }

  async close(): Promise<void> {
    if (this.#stopped === undefined) {
      const closed = this.#ask({ close: true });
      this.#stopped = new Error('the database is closed');
      await closed.catch(() => undefined);
    }
    this.#worker.ref();
    await this.#exited;
  }

  #ask(
    request: { sql: string; params: SQLInputValue[]; blobs?: PackedBlobs } | { close: true },
    transfer: ArrayBuffer[] = [],
  ): Promise<StatementResult | undefined> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...request } satisfies ThreadRequest, transfer);
    });
  }

  #settle(reply: ThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.error === undefined) pending.resolve(reply.result);
    else pending.reject(revive(reply.error));
  }

  #fail(error: Error): void {
    this.#stopped ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** The thread's error as node:sqlite throws it, `errcode` included (sqlite.ts reads it). */
function revive(fields: NonNullable<ThreadReply['error']>): Error {
  const { message, ...codes } = fields;
  return Object.assign(new Error(message), codes);
}

/** The statement's blob parameters packed into one buffer, or undefined when it has none. */
function packBlobs(parameters: readonly SQLInputValue[]): PackedBlobs | undefined {
  let count = 0;
  let size = 0;
  for (const value of parameters) {
    if (ArrayBuffer.isView(value)) {
      count++;
      size += value.byteLength;
    }
  }
  if (count === 0) return undefined;
  const bytes = new Uint8Array(size);
  const at = new Uint32Array(count * 3);
  let offset = 0;
  let k = 0;
  parameters.forEach((value, index) => {
    if (!ArrayBuffer.isView(value)) return;
    bytes.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), offset);
    at[k++] = index;
    at[k++] = offset;
    at[k++] = value.byteLength;
    offset += value.byteLength;
  });
  return { bytes: bytes.buffer, at };
}

/** The worker's side of packBlobs: each blob a view of the one buffer, in its parameter's place. */
export function unpackBlobs(params: SQLInputValue[], blobs: PackedBlobs): SQLInputValue[] {
  const { bytes, at } = blobs;
  for (let k = 0; k < at.length; k += 3) {
    params[at[k] as number] = new Uint8Array(bytes, at[k + 1], at[k + 2]);
  }
  return params;
}
