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
   * it, a write resolves only after its commit is durable, and the connection is free for the
   * next statement while the sync runs. Without it, commits are as durable as `synchronous` says.
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
    private readonly durable: (() => Promise<void>) | undefined,
  ) {
    this.#connection = new NodeSqliteConnection(database);
  }

  async init(): Promise<void> {}

  // One connection serves the whole process; a transaction owns it until it ends. Each caller
  // gets a lease on it, so one that lets go early (below) cannot let go of the next one's.
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return new Lease(this.#connection, this.#mutex, this.durable);
  }

  // IMMEDIATE takes the write lock at BEGIN: a transaction that would have to upgrade a read
  // lock later can fail with SQLITE_BUSY at once, ignoring busy_timeout.
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.inTransaction = true;
    try {
      await lease.executeQuery(CompiledQuery.raw('begin immediate'));
    } catch (error) {
      lease.inTransaction = false;
      throw error;
    }
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.inTransaction = false;
    await lease.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    try {
      await lease.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      lease.inTransaction = false;
    }
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as Lease).release();
  }
  async destroy(): Promise<void> {
    if (this.database.isOpen) this.database.close();
  }
}

/** Statements that only read: no commit to wait for. Anything else may write. */
const READ_ONLY = /^\s*(select|pragma|explain)\b/i;

/**
 * One caller's hold on the connection. A write that commits (a statement outside a transaction,
 * or COMMIT) lets go of the connection as soon as SQLite has committed, then waits for the
 * commit to be durable: the next caller's statements run meanwhile, and their commits share the
 * next sync. A lease used again after letting go takes the connection back first.
 */
class Lease implements DatabaseConnection {
  inTransaction = false;
  #held = true;

  constructor(
    private readonly connection: NodeSqliteConnection,
    private readonly mutex: Mutex,
    private readonly durable: (() => Promise<void>) | undefined,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.#held) {
      await this.mutex.lock();
      this.#held = true;
    }
    const result = await this.connection.executeQuery<R>(compiledQuery);
    if (this.durable && !this.inTransaction && !READ_ONLY.test(compiledQuery.sql)) {
      this.release();
      await this.durable();
    }
    return result;
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!this.#held) {
      await this.mutex.lock();
      this.#held = true;
    }
    yield* this.connection.streamQuery<R>(compiledQuery);
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.mutex.unlock();
  }
}

/** Prepared statements kept per connection: compiling a 500-row INSERT costs more than running it. */
const MAX_CACHED_STATEMENTS = 256;

class NodeSqliteConnection implements DatabaseConnection {
  readonly #statements = new Map<string, { statement: StatementSync; reader: boolean }>();

  constructor(private readonly database: DatabaseSync) {}

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

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
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
