import { sql } from 'kysely';
import type { EngineConnection } from './engine.js';

export const DAY_MS = 86_400_000;

// PostgreSQL error codes raised when two hubs create the same partition at once.
const DUPLICATE_TABLE = '42P07';
const UNIQUE_VIOLATION = '23505';

/**
 * Day partitions of `telemetry_values` on PostgreSQL without TimescaleDB: `telemetry_values_d<N>`
 * holds [N, N+1) days since the epoch. There is no default partition, on purpose: a row with no
 * partition fails loudly instead of piling up where retention cannot drop it. The writer asks for
 * the days of each batch before writing; the ingest refuses points outside its time window, so
 * the set of days stays small. Retention drops whole days.
 */
export class TelemetryPartitions {
  readonly #engine: EngineConnection;
  /** Days known to exist; a cache, cleared when a write says a partition is missing. */
  readonly #known = new Set<number>();

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async ensure(days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.#known.has(day)) continue;
      await this.#create(day);
      this.#known.add(day);
    }
  }

  forget(): void {
    this.#known.clear();
  }

  /** Drops every partition whose whole day is before `cutoff`; returns how many. */
  async dropBefore(cutoff: number): Promise<number> {
    const { rows } = await sql<{ name: string }>`
      select c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      where p.relname = 'telemetry_values' and p.relnamespace = to_regnamespace(current_schema())
    `.execute(this.#engine.db);
    let dropped = 0;
    for (const { name } of rows) {
      const day = /^telemetry_values_d(\d+)$/.exec(name)?.[1];
      if (day === undefined || (Number(day) + 1) * DAY_MS > cutoff) continue;
      await sql`drop table if exists ${sql.table(name)}`.execute(this.#engine.db);
      this.#known.delete(Number(day));
      dropped++;
    }
    return dropped;
  }

  async #create(day: number): Promise<void> {
    const name = sql.table(`telemetry_values_d${day}`);
    const from = sql.lit(day * DAY_MS);
    const to = sql.lit((day + 1) * DAY_MS);
    try {
      await sql`create table if not exists ${name} partition of telemetry_values for values from (${from}) to (${to})`.execute(
        this.#engine.db,
      );
    } catch (error) {
      // IF NOT EXISTS is not atomic: another hub may have created it between check and create.
      const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
      if (code !== DUPLICATE_TABLE && code !== UNIQUE_VIOLATION) throw error;
    }
  }
}
