import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * A Kysely dialect for Node's built-in `node:sqlite` (DatabaseSync). Kysely's own SqliteDialect
 * expects better-sqlite3, a native addon we do not ship; node:sqlite statements have no `reader`
 * flag, so a statement that yields columns is read with `all()` and anything else with `run()`.
 */
export class NodeSqliteDialect implements Dialect {
  /**
   * `durable`: resolves once what was committed before the call is on disk (wal-sync.ts). With
   * it, a write resolves, and lets go of the connection, only once its commit is durable; the
   * event loop runs meanwhile. Without it, commits are as durable as `synchronous` says.
   */
  constructor(
    private readonly database: DatabaseSync,
    private readonly durable?: () => Promise<void>,
  ) {}

  createDriver(): Driver {
    return new NodeSqliteDriver(this.database, this.durable);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * SQLite runs DDL inside transactions perfectly well; saying so makes Kysely's Migrator apply
 * each batch of migrations atomically, so a crash mid-migration leaves the previous schema.
 */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDriver implements Driver {
  readonly #connection: NodeSqliteConnection;
  readonly #mutex = new Mutex();

  constructor(
    private readonly database: DatabaseSync,
    durable: (() => Promise<void>) | undefined,
  ) {
    this.#connection = new NodeSqliteConnection(database, durable);
  }

  async init(): Promise<void> {}

  // One connection serves the whole process; a transaction owns it until it ends, and a write
  // until its commit is durable: no reader ever sees a commit that a power cut could undo.
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  // IMMEDIATE takes the write lock at BEGIN: a transaction that would have to upgrade a read
  // lock later can fail with SQLITE_BUSY at once, ignoring busy_timeout.
  async beginTransaction(): Promise<void> {
    this.#connection.inTransaction = true;
    try {
      await this.#connection.executeQuery(CompiledQuery.raw('begin immediate'));
    } catch (error) {
      this.#connection.inTransaction = false;
      throw error;
    }
  }
  async commitTransaction(): Promise<void> {
    this.#connection.inTransaction = false;
    await this.#connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(): Promise<void> {
    try {
      await this.#connection.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      this.#connection.inTransaction = false;
    }
  }
  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }
  async destroy(): Promise<void> {
    if (this.database.isOpen) this.database.close();
  }
}

/** Statements that only read: no commit to wait for. Anything else may write. */
const READ_ONLY = /^\s*(select|pragma|explain)\b/i;

/** Prepared statements kept per connection: compiling a 500-row INSERT costs more than running it. */
const MAX_CACHED_STATEMENTS = 256;

class NodeSqliteConnection implements DatabaseConnection {
  readonly #statements = new Map<string, { statement: StatementSync; reader: boolean }>();
  /** Between BEGIN and COMMIT/ROLLBACK: statements commit nothing by themselves. */
  inTransaction = false;

  /**
   * `durable` (wal-sync.ts): a statement that commits — COMMIT, or a write outside a
   * transaction — resolves once the commit is on disk; the event loop runs meanwhile.
   */
  constructor(
    private readonly database: DatabaseSync,
    private readonly durable: (() => Promise<void>) | undefined,
  ) {}

  #prepare(text: string): { statement: StatementSync; reader: boolean } {
    let cached = this.#statements.get(text);
    if (cached === undefined) {
      const statement = this.database.prepare(text);
      cached = { statement, reader: statement.columns().length > 0 };
      // Starting over is cheaper than tracking use, and the hot statements come straight back.
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      this.#statements.set(text, cached);
    }
    return cached;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#execute<R>(compiledQuery);
    if (this.durable && !this.inTransaction && !READ_ONLY.test(compiledQuery.sql)) await this.durable();
    return result;
  }

  #execute<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const { statement, reader } = this.#prepare(compiledQuery.sql);
      const parameters = compiledQuery.parameters.map(toSqliteValue);
      if (reader) {
        return Promise.resolve({ rows: statement.all(...parameters) as R[] });
      }
      const { changes, lastInsertRowid } = statement.run(...parameters);
      return Promise.resolve({
        numAffectedRows: BigInt(changes),
        insertId: BigInt(lastInsertRowid),
        rows: [],
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('node:sqlite driver streams select queries only');
    }
    const statement: StatementSync = this.database.prepare(compiledQuery.sql);
    for (const row of statement.iterate(...compiledQuery.parameters.map(toSqliteValue))) {
      yield { rows: [row as R] };
    }
  }
}

function toSqliteValue(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  return value as SQLInputValue;
}

/** First come, first served: waiters are woken in the order they asked. */
class Mutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}
