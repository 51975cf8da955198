/**
 * Stable error codes of the storage layer. The hub turns the startup ones into `HubStartError`
 * (one line on the console) and the runtime ones into HTTP 503 `storage_unavailable`; they never
 * change meaning once published. docs/storage.md lists them.
 */
export const StorageErrorCodes = {
  /** Another live process holds the data directory's lock file. */
  DataDirLocked: 'data_dir_locked',
  /** The data directory (or a file in it) cannot be created or written. */
  DataDirUnwritable: 'data_dir_unwritable',
  /** The PostgreSQL server named by DATABASE_URL cannot be reached or refuses us. */
  DatabaseUnreachable: 'database_unreachable',
  /** The engine failed a statement (corrupt file, disk full, lost connection, ...). */
  DatabaseError: 'database_error',
  /** An appended event reuses the id of a stored one (a retried append, for instance). */
  DuplicateEvent: 'duplicate_event',
  /** The storage was used after `close()`. */
  StorageClosed: 'storage_closed',
} as const;

export type StorageErrorCode = (typeof StorageErrorCodes)[keyof typeof StorageErrorCodes];

export abstract class StorageError extends Error {
  abstract readonly code: StorageErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class DataDirLockedError extends StorageError {
  readonly code = StorageErrorCodes.DataDirLocked;
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly host: string,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${pid}${host ? ` on ${host}` : ''}: ` +
        'stop that hub or choose another data directory',
    );
  }
}

export class DataDirUnwritableError extends StorageError {
  readonly code = StorageErrorCodes.DataDirUnwritable;
  constructor(
    readonly dataDir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`data directory ${dataDir} is not writable: ${reason}`, options);
  }
}

export class DatabaseUnreachableError extends StorageError {
  readonly code = StorageErrorCodes.DatabaseUnreachable;
  /** `location` never contains the password. */
  constructor(
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot connect to PostgreSQL at ${location}: ${reason}`, options);
  }
}

export class DatabaseError extends StorageError {
  readonly code = StorageErrorCodes.DatabaseError;
}

export class DuplicateEventError extends StorageError {
  readonly code = StorageErrorCodes.DuplicateEvent;
}

export class StorageClosedError extends StorageError {
  readonly code = StorageErrorCodes.StorageClosed;
  constructor() {
    super('storage is closed');
  }
}

/** Runs an engine call; a driver error becomes a DatabaseError naming what failed. */
export async function guard<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStorageError(what, error);
  }
}

export function toStorageError(what: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new DatabaseError(`${what} failed: ${reason}`, { cause: error });
}
