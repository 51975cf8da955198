import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely } from 'kysely';
import { acquireDataDirLock, errnoCode, unwritable } from './data-dir-lock.js';
import type { EngineConnection, SchemaDialect } from './engine.js';
import { DatabaseError, type StorageError } from './errors.js';
import { NodeSqliteDialect } from './node-sqlite-dialect.js';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.js';
import { WalSync } from './wal-sync.js';
import type { Database } from './schema.js';

/** The embedded engine: one SQLite file in the data directory, through node:sqlite. */

export const DEFAULT_DATA_DIR = './.flotilla';
export const DATABASE_FILE = 'flotilla.db';

/** How long a statement waits for a lock held by another connection (a backup, the sqlite3 CLI). */
const BUSY_TIMEOUT_MS = 5_000;

// Result codes, https://www.sqlite.org/rescode.html
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

const schema: SchemaDialect = {
  engine: 'sqlite',
  bigint: 'integer',
  // Declared as TEXT on purpose: SQLite would give a column declared JSON numeric affinity and
  // store the document `123` as the integer 123.
  json: 'text',
  // Exactly INTEGER PRIMARY KEY makes the column the rowid. AUTOINCREMENT keeps positions from
  // ever being reused, and a rolled-back append rolls its numbers back, so positions have no gaps.
  autoIncrementType: 'integer',
  autoIncrement: (col) => col.primaryKey().autoIncrement(),
};

export function openSqlite(dataDir: string): EngineConnection {
  const dir = resolve(dataDir);
  try {
    makeDirectory(dir);
  } catch (error) {
    throw unwritable(dir, error);
  }
  const lock = acquireDataDirLock(dir);
  const file = join(dir, DATABASE_FILE);
  let database: DatabaseSync | undefined;
  let checkpointer: Checkpointer;
  let wal: WalSync;
  let readerDatabase: DatabaseSync | undefined;
  try {
    database = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    configure(database);
    // A first read opens (creates) the WAL file, which stays until the last connection closes.
    database.prepare('select count(*) from sqlite_master').get();
    wal = new WalSync(`${file}-wal`);
    readerDatabase = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, readOnly: true });
    readerDatabase.exec('pragma cache_size = -16384');
    checkpointer = startCheckpointer(database, file, BUSY_TIMEOUT_MS);
  } catch (error) {
    if (readerDatabase?.isOpen) readerDatabase.close();
    if (database?.isOpen) database.close();
    lock.release();
    throw openError(dir, file, error);
  }
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect(database, () => wal.sync()) });
  const reader = new Kysely<Database>({ dialect: new NodeSqliteDialect(readerDatabase) });
  return {
    engine: 'sqlite',
    location: file,
    db,
    reader,
    schema,
    // BEGIN IMMEDIATE (see node-sqlite-dialect.ts) already holds the database's write lock for
    // the whole append transaction, and this process has a single connection.
    lockEventLog: async () => {},
    isUniqueViolation: (error) => {
      const code = sqliteErrcode(error);
      return code === SQLITE_CONSTRAINT_UNIQUE || code === SQLITE_CONSTRAINT_PRIMARYKEY;
    },
    close: async () => {
      try {
        await checkpointer.stop();
        await reader.destroy();
        await db.destroy();
        await wal.close();
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * mkdir -p, by hand: Node's recursive mkdirSync never returns on a path whose parent exists
 * but refuses children with ENOENT (/proc, /sys), and a hub must fail at start, not hang.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
      return;
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
    makeDirectory(dirname(dir));
    mkdirSync(dir);
  }
}

function configure(database: DatabaseSync): void {
  const mode = database.prepare('pragma journal_mode = wal').get() as { journal_mode?: string } | undefined;
  if (mode?.journal_mode !== 'wal') {
    throw new Error(`the file system refused WAL mode (journal_mode is ${String(mode?.journal_mode)})`);
  }
  // WAL with synchronous=NORMAL survives a killed process but may lose the last commits on a power
  // cut or kernel panic; FULL would sync the WAL inside every commit, on the event loop. Commits
  // are made durable by WalSync instead (wal-sync.ts): every write resolves only once its commit
  // is synced, off the main thread, so an acknowledged event or telemetry batch survives power
  // loss as it did with FULL.
  database.exec('pragma synchronous = normal');
  database.exec('pragma foreign_keys = on');
  // 64 MiB of page cache instead of 2: telemetry batches touch one index leaf per series, and
  // with thousands of series the default cache re-reads them from the OS at every batch.
  database.exec('pragma cache_size = -65536');
}

function openError(dir: string, file: string, error: unknown): StorageError {
  // Primary codes: the low byte of an extended code (SQLITE_READONLY_DIRECTORY is READONLY too).
  const code = (sqliteErrcode(error) ?? 0) & 0xff;
  if (code === SQLITE_CANTOPEN || code === SQLITE_READONLY) return unwritable(dir, error);
  if (code === SQLITE_NOTADB) {
    return new DatabaseError(`${file} is not a SQLite database`, { cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new DatabaseError(`cannot open ${file}: ${reason}`, { cause: error });
}

function sqliteErrcode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'errcode' in error && typeof error.errcode === 'number'
    ? error.errcode
    : undefined;
}
