import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type Selectable } from 'kysely';
import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { LogsTable } from './schema.js';

/**
 * The device log table (migration 0010) on either engine: batched inserts, filtered reads in id
 * order, retention. The logs module (src/logs/) owns validation, the queue and scheduling; this
 * class only talks to the database. Levels are pino's numbers (10 trace … 60 fatal).
 */

/** A line to store; `fields` already checked to serialise within the limit. */
export interface NewLogLine {
  device: string;
  ts: number;
  level: number;
  message: string;
  fields: Record<string, unknown> | undefined;
  received: number;
}

export interface StoredLogLine {
  id: number;
  device: string;
  ts: number;
  level: number;
  message: string;
  fields: Record<string, unknown> | null;
  received: number;
}

export interface LogQuery {
  /** Only these devices; absent: every device. An empty list matches nothing. */
  devices?: readonly string[];
  /** Lines at this level or above. */
  minLevel?: number;
  /** Case-insensitive substring of the message (ASCII letters fold on SQLite; every letter on PostgreSQL). */
  text?: string;
  /** Inclusive lower bound on `ts`. */
  from?: number;
  /** Exclusive upper bound on `ts`. */
  to?: number;
  /** Only lines after this id (ascending) or before it (descending). */
  cursor?: number;
  order: 'asc' | 'desc';
  limit: number;
}

/** SQLite: rows per INSERT (7 parameters each, under its 32,766 limit with room to spare). */
const ROWS_PER_STATEMENT = 1_000;
/** SQLite: rows deleted per statement, with a turn of the event loop between statements. */
const SQLITE_DELETE_CHUNK = 5_000;

function toLine(r: Selectable<LogsTable>): StoredLogLine {
  return {
    id: Number(r.id),
    device: r.device,
    ts: Number(r.ts),
    level: Number(r.level),
    message: r.message,
    fields: r.fields === null ? null : (JSON.parse(r.fields) as Record<string, unknown>),
    received: Number(r.received),
  };
}

export class LogStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  /**
   * Inserts the lines in one transaction and returns their ids, in the order given. Ids are
   * assigned in row order within a statement on both engines, so the returned ids, sorted, map
   * onto the rows in order (RETURNING itself promises no order).
   */
  async write(lines: readonly NewLogLine[]): Promise<number[]> {
    if (lines.length === 0) return [];
    return guard('writing logs', () =>
      this.#engine.db.transaction().execute(async (trx) => {
        const ids: number[] = [];
        for (let start = 0; start < lines.length; start += ROWS_PER_STATEMENT) {
          const rows = lines.slice(start, start + ROWS_PER_STATEMENT).map((line) => ({
            device: line.device,
            ts: line.ts,
            level: line.level,
            message: line.message,
            fields: line.fields === undefined ? null : JSON.stringify(line.fields),
            received: line.received,
          }));
          const returned = await trx.insertInto('logs').values(rows).returning('id').execute();
          ids.push(...returned.map((r) => Number(r.id)).sort((a, b) => a - b));
        }
        return ids;
      }),
    );
  }

  async read(query: LogQuery): Promise<StoredLogLine[]> {
    if (query.devices !== undefined && query.devices.length === 0) return [];
    return guard('reading logs', async () => {
      let q = this.#engine.db.selectFrom('logs').selectAll();
      if (query.devices !== undefined) {
        const [only] = query.devices;
        q =
          query.devices.length === 1 && only !== undefined
            ? q.where('device', '=', only)
            : q.where('device', 'in', query.devices);
      }
      if (query.minLevel !== undefined) q = q.where('level', '>=', query.minLevel);
      if (query.from !== undefined) q = q.where('ts', '>=', query.from);
      if (query.to !== undefined) q = q.where('ts', '<', query.to);
      if (query.text !== undefined && query.text !== '') {
        const needle = query.text.toLowerCase();
        // instr/strpos, not LIKE: the needle is matched as it is, with no wildcard to escape.
        q =
          this.#engine.engine === 'postgres'
            ? q.where(sql<boolean>`strpos(lower(message), ${needle}) > 0`)
            : q.where(sql<boolean>`instr(lower(message), ${needle}) > 0`);
      }
      if (query.cursor !== undefined) q = q.where('id', query.order === 'asc' ? '>' : '<', query.cursor);
      const rows = await q.orderBy('id', query.order).limit(query.limit).execute();
      return rows.map(toLine);
    });
  }

  /** Deletes lines with `ts` before the cutoff; returns how many. */
  async retain(cutoff: number): Promise<number> {
    const db = this.#engine.db;
    return guard('applying log retention', async () => {
      if (this.#engine.engine === 'postgres') {
        const result = await db.deleteFrom('logs').where('ts', '<', cutoff).executeTakeFirst();
        return Number(result.numDeletedRows);
      }
      // In chunks: node:sqlite is synchronous, and a week of a fleet's logs must not hold the
      // event loop (and the write lock) in one statement.
      let deleted = 0;
      for (;;) {
        const result = await sql`
          delete from logs where id in (
            select id from logs where ts < ${cutoff} limit ${sql.lit(SQLITE_DELETE_CHUNK)}
          )`.execute(db);
        const n = Number(result.numAffectedRows ?? 0);
        deleted += n;
        if (n < SQLITE_DELETE_CHUNK) return deleted;
        await nextTurn();
      }
    });
  }
}
