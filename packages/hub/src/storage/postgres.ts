import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { EngineConnection, SchemaDialect } from './engine.js';
import { DatabaseUnreachableError } from './errors.js';
import type { Database } from './schema.js';

/** The server engine: a PostgreSQL database named by DATABASE_URL, through a `pg` pool. */

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

// Type OIDs, from pg_type.
const INT8_OID = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;

/** Any fixed 64-bit key; advisory locks are per database, so this only has to be ours. */
const EVENT_LOG_LOCK_KEY = 0x466c6f74696c6c61n; // "Flotilla"

// PostgreSQL error codes, https://www.postgresql.org/docs/current/errcodes-appendix.html
const UNIQUE_VIOLATION = '23505';

const schema: SchemaDialect = {
  engine: 'postgres',
  bigint: 'bigint',
  // json, not jsonb: documents come back exactly as written, as on SQLite (jsonb reorders keys
  // and refuses the string "\u0000", which a device may well send), and the log is read whole,
  // where json skips jsonb's conversion both ways.
  json: 'json',
  autoIncrementType: 'bigint',
  // ALWAYS refuses an explicit position, so only the sequence assigns them. Sequences are not
  // transactional: a failed append burns its numbers, so positions can have gaps here.
  autoIncrement: (col) => col.generatedAlwaysAsIdentity().primaryKey(),
};

/**
 * int8 comes back from pg as a string (it may exceed 2^53); positions, timestamps in ms and
 * counts never do, and the shared code wants numbers. JSON comes back as text so both engines
 * hand the shared code the same thing to parse (pg would parse it, differently for scalars).
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresOptions {
  connectTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

export async function openPostgres(databaseUrl: string, options: PostgresOptions = {}): Promise<EngineConnection> {
  const target = describeDatabaseUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: 'flotilla-hub',
    types,
  });
  // An idle connection that drops (server restart) is discarded by the pool and replaced on
  // next use; without a listener its 'error' event would crash the process.
  pool.on('error', (error) => {
    options.logger?.warn(
      { err: { message: redact(error.message, target.secrets) }, database: target.location },
      'idle PostgreSQL connection failed',
    );
  });
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseUnreachableError(target.location, reason(error, target.secrets), { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    location: target.location,
    db,
    schema,
    // Several hubs may share the database; the transaction-scoped lock serialises their
    // appends, so a position is never visible before a smaller one that commits later.
    lockEventLog: async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(EVENT_LOG_LOCK_KEY)})`.execute(trx);
    },
    isUniqueViolation: (error) =>
      typeof error === 'object' && error !== null && 'code' in error && error.code === UNIQUE_VIOLATION,
    clientTransaction: async (work) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (error) {
        // A failed rollback means the connection itself is gone: the pool must not reuse it.
        await client.query('rollback').catch((again: unknown) => {
          broken = again instanceof Error ? again : new Error(String(again));
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => db.destroy(),
  };
}

export interface DatabaseTarget {
  /** `postgres://user@host:port/database`: the URL without its password or options. */
  location: string;
  /** The password as written in the URL and decoded, to strip from messages. */
  secrets: string[];
}

export function describeDatabaseUrl(databaseUrl: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseUnreachableError('DATABASE_URL', 'not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new DatabaseUnreachableError('DATABASE_URL', `unsupported scheme ${url.protocol} (use postgres://)`);
  }
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  const port = url.port || url.searchParams.get('port') || '5432';
  const username = decodeURIComponent(url.username) || url.searchParams.get('user') || '';
  const user = username ? `${username}@` : '';
  const database = decodeURIComponent(url.pathname.slice(1)) || username || 'postgres';
  // A host that is a directory means a Unix socket; say so rather than glue a path to a port.
  const location = host.startsWith('/')
    ? `postgres://${user}/${database}?host=${host}`
    : `postgres://${user}${host}:${port}/${database}`;
  return {
    location,
    secrets: [url.password, decodeURIComponent(url.password)].filter((secret) => secret !== ''),
  };
}

function reason(error: unknown, secrets: readonly string[]): string {
  const message = error instanceof Error ? error.message || errorCode(error) : String(error);
  return redact(message, secrets);
}

/** Node's AggregateError (every address refused) has an empty message but a code. */
function errorCode(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
}

/** The server never echoes the password, but a driver message might quote the URL: strip it. */
function redact(message: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('***'), message);
}
