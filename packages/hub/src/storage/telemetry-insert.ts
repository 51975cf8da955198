import { setImmediate as nextTurn } from 'node:timers/promises';
import { CompiledQuery, type Transaction } from 'kysely';
import type { Engine } from './types.js';
import type { Database } from './schema.js';

/**
 * Bulk INSERTs of column-major rows, the fastest way each engine takes them through its driver:
 * - PostgreSQL: one `INSERT … SELECT * FROM UNNEST($1::int8[], …)` whatever the row count. The
 *   arrays are sent as array literals built here (`{1,2,3}`): numbers need no quoting, and pg's
 *   own array serialiser escapes every element, which cost more than the insert.
 * - SQLite: multi-row `INSERT … VALUES (?, ?), …` of a few fixed sizes (so the prepared
 *   statements are reused from the driver's cache), with a turn of the event loop between
 *   statements: node:sqlite is synchronous, and sockets must be read while a batch is written.
 */

export interface Column {
  name: string;
  /** PostgreSQL array element type for UNNEST. */
  pg: 'text' | 'int8' | 'float8' | 'json';
}

export const col = (name: string, pg: Column['pg']): Column => ({ name, pg });

/** SQLite: rows per full statement, and the smaller sizes the remainder is cut into. */
const SQLITE_ROWS = [512, 64, 8, 1];

/** Inserts column-major rows; returns what a RETURNING clause in `suffix` gave back. */
export async function insertColumns(
  engine: Engine,
  trx: Transaction<Database>,
  table: string,
  cols: readonly Column[],
  values: readonly unknown[][],
  suffix = '',
): Promise<Record<string, unknown>[]> {
  const count = values[0]?.length ?? 0;
  if (count === 0) return [];
  const names = cols.map((c) => c.name).join(', ');
  if (engine === 'postgres') {
    const unnest = cols.map((c, i) => `$${i + 1}::${c.pg}[]`).join(', ');
    const text = `insert into ${table} (${names}) select * from unnest(${unnest}) ${suffix}`;
    const params = cols.map((c, i) => (c.pg === 'int8' || c.pg === 'float8' ? numberArray(values[i] ?? []) : values[i]));
    const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, params));
    return [...result.rows];
  }
  const returned: Record<string, unknown>[] = [];
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  let start = 0;
  let statements = 0;
  while (start < count) {
    const rows = SQLITE_ROWS.find((size) => size <= count - start) ?? 1;
    if (statements++ > 0 && rows === SQLITE_ROWS[0]) await nextTurn();
    const params: unknown[] = new Array(rows * cols.length);
    let p = 0;
    for (let r = start; r < start + rows; r++) for (const column of values) params[p++] = column[r];
    const text = `insert into ${table} (${names}) values ${rowsSql(tuple, rows)} ${suffix}`;
    const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, params));
    if (result.rows.length > 0) returned.push(...result.rows);
    start += rows;
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
