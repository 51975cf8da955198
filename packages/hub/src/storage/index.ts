/** The hub's storage layer: event log and snapshots on embedded SQLite or PostgreSQL. */
export { openStorage } from './open.js';
export type { Engine, EventQuery, NewEvent, OpenStorageOptions, Snapshot, Storage } from './types.js';
export {
  DataDirLockedError,
  DataDirUnwritableError,
  DatabaseError,
  DatabaseUnreachableError,
  DuplicateEventError,
  StorageClosedError,
  StorageError,
  StorageErrorCodes,
  type StorageErrorCode,
} from './errors.js';
export { DEFAULT_DATA_DIR, DATABASE_FILE } from './sqlite.js';
export { LOCK_FILE } from './data-dir-lock.js';
export { createTestDatabase, type TestDatabase } from './testing.js';
export { TelemetryStore } from './telemetry-store.js';
export type * from './telemetry-types.js';
export { LogStore, type LogQuery, type NewLogLine, type StoredLogLine } from './logs.js';
