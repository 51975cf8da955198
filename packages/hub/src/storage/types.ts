import type { EventMetadata, StoredEvent } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { IdentityStore } from './identity.js';
import type { DeviceIdentityStore } from './device-identity.js';
import type { TlsStore } from './tls.js';
import type { CommandRow, CommandStore } from './commands.js';
import type { TelemetryStore } from './telemetry-store.js';
import type { ReportStore } from './reports.js';
import type { LogStore } from './logs.js';
import type { AlertStore } from './alerts.js';
import type { FleetHealthStore } from './fleet-health.js';

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
  /** Any of these types; absent or empty means every type. */
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
  /** Users, API tokens, refresh sessions and hub secrets (migration 0003). */
  readonly identity: IdentityStore;
  /** Enrollment tokens and device credentials (migration 0004). */
  readonly deviceIdentity: DeviceIdentityStore;
  /** The hub CA and the device certificates it issued (migration 0005). */
  readonly tls: TlsStore;
  readonly commands: CommandStore;
  /** Telemetry points, samples, dedup records and rollups (migration 0006). */
  readonly telemetry: TelemetryStore;
  /** Generated reports: request, statistics and summary (migration 0012). */
  readonly reports: ReportStore;
  /** Device log lines (migration 0010). */
  readonly logs: LogStore;
  /** Alert rules, alerts and webhook deliveries (migration 0009). */
  readonly alerts: AlertStore;
  /** The fleet's online, offline and alerting counts over time (migration 0017). */
  readonly fleetHealth: FleetHealthStore;
  /**
   * Appends atomically, in order; returns the stored events with their positions. Calls made
   * in the same turn of the event loop (or while a commit runs) share one transaction, and
   * calls resolve in the order of their positions. Positions increase strictly with commit
   * order; on SQLite they are gap-free, on PostgreSQL a failed append may leave a gap.
   * Rejects with DuplicateEventError (only that call) when an id is already stored.
   */
  appendEvents(events: readonly NewEvent[]): Promise<StoredEvent[]>;
  /**
   * Writes command records as they stand (new ones inserted, known ones overwritten) and appends
   * their events, in one transaction: readers see both or neither (commands/journal.ts).
   */
  recordCommands(rows: readonly CommandRow[], events: readonly NewEvent[]): Promise<StoredEvent[]>;
  readEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** Exact, so it scans an index: cheap on SQLite, seconds on a PostgreSQL log of many millions. */
  countEvents(): Promise<number>;
  /** Position of the newest event, 0 when the log is empty; one index lookup. */
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
  /** PostgreSQL only: how long opening may wait for a connection (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Where the engine reports trouble that is no caller's error (an idle connection dropping). */
  logger?: Pick<Logger, 'warn'>;
}
