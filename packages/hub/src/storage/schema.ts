import type { Generated } from 'kysely';

/**
 * Row types of the tables, as the shared query code sees them on both engines: JSON columns
 * travel as text (each engine module makes its driver hand JSON back unparsed) and bigint
 * columns as numbers (the PostgreSQL module parses int8; SQLite returns numbers already).
 */
export interface EventsTable {
  position: Generated<number>;
  id: string;
  aggregate_id: string;
  type: string;
  ts: number;
  data: string;
  actor: string;
  correlation_id: string | null;
  causation_id: string | null;
}

export interface SnapshotsTable {
  name: string;
  position: number;
  ts: number;
  state: string;
}

export interface Database {
  events: EventsTable;
  snapshots: SnapshotsTable;
}
