import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CompiledQuery, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Engine } from './types.js';
import type { Database } from './schema.js';

/**
 * Bulk writes of column-major rows, the fastest way each engine takes them through its driver:
 * - PostgreSQL, numbers only (the points): `COPY … FROM STDIN (FORMAT binary)`, encoded here;
 *   the server then parses no text at all (measured: 2-3× the rows per second of UNNEST).
 * - PostgreSQL, anything else: one `INSERT … SELECT * FROM UNNEST($1::int8[], …)` whatever the
 *   row count. Number arrays are sent as array literals built here (`{1,2,3}`): pg's own array
 *   serialiser escapes every element, which cost more than the insert.
 * - SQLite: multi-row `INSERT … VALUES (?, ?), …` of a few fixed sizes (so the prepared
 *   statements are reused from the driver's cache), with a turn of the event loop between
 *   statements: node:sqlite is synchronous, and sockets must be read while a batch is written.
 */

export interface Column {
  name: string;
  /** PostgreSQL array element type for UNNEST. */
  pg: 'text' | 'int8' | 'float8' | 'json' | 'bytea';
}

export const col = (name: string, pg: Column['pg']): Column => ({ name, pg });

/**
 * SQLite: rows per full statement, and the smaller sizes the remainder is cut into. A full
 * statement is the longest the event loop stops for a telemetry write (about a millisecond at
 * 128 rows; 512 held commands and socket reads for several), and the loop turns between them.
 */
const SQLITE_ROWS = [128, 32, 8, 1];

/** Where a telemetry transaction's statements go: a Kysely transaction, or a pg client's. */
export interface SqlRunner {
  readonly engine: Engine;
  query(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** PostgreSQL through a pg client: binary COPY of int8 and float8 columns. */
  copy?(table: string, cols: readonly Column[], values: readonly (readonly number[])[]): Promise<void>;
}

export function kyselyRunner(engine: Engine, trx: Transaction<Database>): SqlRunner {
  return {
    engine,
    query: async (text, params) => [
      ...(await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [...params]))).rows,
    ],
  };
}

export function pgRunner(client: pg.PoolClient): SqlRunner {
  return {
    engine: 'postgres',
    query: async (text, params) => (await client.query<Record<string, unknown>>(text, [...params])).rows,
    copy: async (table, cols, values) => {
      const names = cols.map((c) => c.name).join(', ');
      const stream = client.query(copyFrom(`copy ${table} (${names}) from stdin (format binary)`));
      await pipeline(Readable.from([encodeBinary(cols, values)]), stream);
    },
  };
}

/** Rows of numbers, by COPY when the runner can, else by INSERT. */
export async function insertNumbers(
  runner: SqlRunner,
  table: string,
  cols: readonly Column[],
  values: readonly (readonly number[])[],
): Promise<void> {
  if ((values[0]?.length ?? 0) === 0) return;
  if (runner.copy) return runner.copy(table, cols, values);
  await insertColumns(runner, table, cols, values);
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const TWO_32 = 4_294_967_296;

/**
 * PostgreSQL's binary COPY format (docs: sql-copy.html, "Binary Format"): a signature, flags and
 * header extension length (0), then per row a field count and per field its byte length and
 * big-endian value; -1 ends it. int8 is written as two 32-bit halves: the values are safe integers.
 */
function encodeBinary(cols: readonly Column[], values: readonly (readonly number[])[]): Buffer {
  const rows = values[0]?.length ?? 0;
  const buffer = Buffer.allocUnsafe(COPY_SIGNATURE.length + 8 + rows * (2 + cols.length * 12) + 2);
  let o = COPY_SIGNATURE.copy(buffer, 0);
  o = buffer.writeInt32BE(0, o);
  o = buffer.writeInt32BE(0, o);
  const float = cols.map((c) => c.pg === 'float8');
  for (let r = 0; r < rows; r++) {
    o = buffer.writeInt16BE(cols.length, o);
    for (let c = 0; c < cols.length; c++) {
      const v = (values[c] as readonly number[])[r] as number;
      o = buffer.writeInt32BE(8, o);
      if (float[c]) o = buffer.writeDoubleBE(v, o);
      else {
        const high = Math.floor(v / TWO_32);
        o = buffer.writeInt32BE(high, o);
        o = buffer.writeUInt32BE(v - high * TWO_32, o);
      }
    }
  }
  buffer.writeInt16BE(-1, o);
  return buffer;
}

/** Inserts column-major rows; returns what a RETURNING clause in `suffix` gave back. */
export async function insertColumns(
  runner: SqlRunner,
  table: string,
  cols: readonly Column[],
  values: readonly (readonly unknown[])[],
  suffix = '',
): Promise<Record<string, unknown>[]> {
  const count = values[0]?.length ?? 0;
  if (count === 0) return [];
  const names = cols.map((c) => c.name).join(', ');
  if (runner.engine === 'postgres') {
    const unnest = cols.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
    const text = `insert into ${table} (${names}) select * from unnest(${unnest}) ${suffix}`;
    const params = cols.map((c, i) =>
      c.pg === 'int8' || c.pg === 'float8' ? numberArray(values[i] ?? []) : values[i],
    );
    return runner.query(text, params);
  }
  const returned: Record<string, unknown>[] = [];
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  let start = 0;
  let statements = 0;
  while (start < count) {
    const size = SQLITE_ROWS.find((n) => n <= count - start) ?? 1;
    if (statements++ > 0 && size === SQLITE_ROWS[0]) await nextTurn();
    const params: unknown[] = new Array(size * cols.length);
    let p = 0;
    for (let r = start; r < start + size; r++) for (const column of values) params[p++] = column[r];
    const text = `insert into ${table} (${names}) values ${rowsSql(tuple, size)} ${suffix}`;
    const rows = await runner.query(text, params);
    if (rows.length > 0) returned.push(...rows);
    start += size;
  }
  return returned;
}

/** A PostgreSQL array literal of numbers (finite: the ingest refuses the rest). */
function numberArray(values: readonly unknown[]): string {
  return `{${values.join(',')}}`;
}

const tuples = new Map<string, string>();

/** `(?, ?), (?, ?), …`, cached: statements come in a few fixed shapes. */
function rowsSql(tuple: string, count: number): string {
  const key = `${tuple}${count}`;
  let text = tuples.get(key);
  if (text === undefined) {
    text = new Array<string>(count).fill(tuple).join(', ');
    if (tuples.size < 256) tuples.set(key, text);
  }
  return text;
}
