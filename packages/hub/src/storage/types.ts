import type { EventMetadata, StoredEvent } from '@flotilla/protocol';

/**
 * The storage contract every engine implements (SQLite through node:sqlite, PostgreSQL).
 * One typed query layer (Kysely) serves both; what differs between dialects lives in one module
 * per engine (storage/sqlite.ts, storage/postgres.ts).
 */

export type Engine = 'sqlite' | 'postgres';

/** An event to append; the store assigns its global `position`. */
export interface NewEvent {
  id: string;
  aggregateId: string;
  type: string;
  ts: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

export interface EventQuery {
  aggregateId?: string;
  types?: string[];
  actor?: string;
  /** Inclusive lower bound on `ts` (ms). */
  since?: number;
  /** Exclusive upper bound on `ts` (ms). */
  until?: number;
  /** Only events with position strictly after this one (ascending order) or before it (descending). */
  cursor?: number;
  limit: number;
  order?: 'asc' | 'desc';
}

export interface Snapshot<T = unknown> {
  name: string;
  /** Position of the last event folded into `state`. */
  position: number;
  ts: number;
  state: T;
}

export interface Storage {
  readonly engine: Engine;
  /** Human-readable location, never containing a password (for logs). */
  readonly location: string;
  /** Appends atomically, in order; returns the stored events with their positions. */
  appendEvents(events: readonly NewEvent[]): Promise<StoredEvent[]>;
  readEvents(query: EventQuery): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
  lastPosition(): Promise<number>;
  saveSnapshot<T>(snapshot: Snapshot<T>): Promise<void>;
  loadSnapshot<T>(name: string): Promise<Snapshot<T> | undefined>;
  /** True when the engine answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /** PostgreSQL connection string; when absent the embedded SQLite engine is used. */
  databaseUrl?: string;
  /** Directory for the embedded engine's files (default `./.flotilla`). */
  dataDir?: string;
}
