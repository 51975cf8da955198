import type { ColumnDataType, ColumnDefinitionBuilder, Kysely, Transaction } from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';
import type { Engine } from './types.js';

/**
 * The seam between the shared storage code and an engine. Everything that differs between
 * SQLite and PostgreSQL is behind this interface and implemented once per engine
 * (storage/sqlite.ts, storage/postgres.ts); the event store, snapshots and migrations never
 * test which engine they run on.
 */
export interface EngineConnection {
  readonly engine: Engine;
  /** Where the data lives, for logs; never contains a password. */
  readonly location: string;
  readonly db: Kysely<Database>;
  /**
   * SQLite: a second, read-only connection, for lookups on every request (who a token stands
   * for) that must not queue behind the writer: the one read-write connection stays with a
   * telemetry transaction for many turns of the event loop. It reads the last commit, which may
   * be a fraction of a millisecond from durable. Absent: read through `db` (PostgreSQL's pool
   * has connections to spare).
   */
  readonly reader?: Kysely<Database>;
  readonly schema: SchemaDialect;
  /**
   * Taken first in every append transaction. Appenders are serialised, so positions become
   * visible in the order they were assigned and a reader paging by position never skips one
   * that commits late.
   */
  lockEventLog(trx: Transaction<Database>): Promise<void>;
  /** True when the driver's error says a unique constraint refused a row. */
  isUniqueViolation(error: unknown): boolean;
  /**
   * PostgreSQL only: runs `work` in a transaction on one pooled pg client, for what Kysely cannot
   * send (COPY, used by the telemetry writer). Commits when `work` resolves, rolls back otherwise.
   */
  clientTransaction?<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Releases the connection(s) and whatever else the engine holds (the data-dir lock). */
  close(): Promise<void>;
}

/** Column types whose spelling differs between engines; migrations use only these. */
export interface SchemaDialect {
  /**
   * The engine, for the rare migration whose layout differs in more than a type name (telemetry:
   * PostgreSQL partitions or a TimescaleDB hypertable, one plain table on SQLite).
   */
  readonly engine: Engine;
  /** A 64-bit integer column (read back as a JS number). */
  readonly bigint: ColumnDataType;
  /** A JSON document column (written and read as JSON text). */
  readonly json: ColumnDataType;
  /** Type of an auto-assigned, ever-increasing 64-bit primary key; pair with `autoIncrement`. */
  readonly autoIncrementType: ColumnDataType;
  autoIncrement(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}
