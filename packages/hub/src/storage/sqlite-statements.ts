import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

/**
 * Running SQL on one node:sqlite connection, wherever that connection lives: on the calling
 * thread (`InlineStatements`: the read-only lookup connection) or on a thread of its own
 * (`SqliteThread`, sqlite-thread.ts: the read-write connection). The Kysely dialect
 * (node-sqlite-dialect.ts) is written against this interface only.
 */
export interface SqliteStatements {
  /** Runs one statement: rows for a statement that yields columns, the change count otherwise. */
  execute(sql: string, parameters: readonly SQLInputValue[]): Promise<StatementResult>;
  /** Closes the connection; statements asked for afterwards are refused. */
  close(): Promise<void>;
}

export type StatementResult =
  { rows: Record<string, unknown>[] } | { changes: number | bigint; lastInsertRowid: number | bigint };

/** Prepared statements kept per connection: compiling a 500-row INSERT costs more than running it. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * A connection's prepared statements, by SQL text. node:sqlite statements have no `reader` flag,
 * so a statement that yields columns is read with `all()` and anything else with `run()`.
 */
export class StatementCache {
  readonly #statements = new Map<string, { statement: StatementSync; reader: boolean }>();

  constructor(private readonly database: DatabaseSync) {}

  run(sql: string, parameters: readonly SQLInputValue[]): StatementResult {
    let cached = this.#statements.get(sql);
    if (cached === undefined) {
      const statement = this.database.prepare(sql);
      cached = { statement, reader: statement.columns().length > 0 };
      // Starting over is cheaper than tracking use, and the hot statements come straight back.
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      this.#statements.set(sql, cached);
    }
    if (cached.reader) return { rows: cached.statement.all(...parameters) as Record<string, unknown>[] };
    const { changes, lastInsertRowid } = cached.statement.run(...parameters);
    return { changes, lastInsertRowid };
  }
}

/** A connection on the calling thread: each statement stops the event loop while it runs. */
export class InlineStatements implements SqliteStatements {
  readonly #cache: StatementCache;

  constructor(private readonly database: DatabaseSync) {
    this.#cache = new StatementCache(database);
  }

  execute(sql: string, parameters: readonly SQLInputValue[]): Promise<StatementResult> {
    try {
      return Promise.resolve(this.#cache.run(sql, parameters));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  close(): Promise<void> {
    if (this.database.isOpen) this.database.close();
    return Promise.resolve();
  }
}
