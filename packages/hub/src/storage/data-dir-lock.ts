import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, DataDirUnwritableError } from './errors.js';

/**
 * One hub per data directory. SQLite itself would let two processes share the file, but two
 * hubs would each believe their in-memory projections are the truth and interleave events, so
 * the second one must stop at start with a clear line instead.
 *
 * The lock is a file created with O_EXCL that names its owner (pid and host). A lock left by a
 * process that no longer exists (killed, crashed, power cut) is taken over; a lock from another
 * host (a data dir on a network share) cannot be checked and is respected.
 */
export const LOCK_FILE = 'flotilla.lock';

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

interface LockContent {
  /** The file's bytes, to tell one lock from another. */
  raw: string;
  pid: number;
  host: string;
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const host = hostname();
  const mine = `${JSON.stringify({ pid: process.pid, host })}\n`;
  let holder: LockContent | undefined;
  // A few rounds cover the lock vanishing or being taken over between our steps.
  for (let round = 0; round < 3; round++) {
    try {
      writeFileSync(path, mine, { flag: 'wx', mode: 0o644 });
      return holdLock(path, mine);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw unwritable(dataDir, error);
    }
    holder = readLock(path);
    if (!holder) continue;
    if (isAlive(holder, host)) throw new DataDirLockedError(dataDir, holder.pid, holder.host);
    takeOverStale(path, holder);
  }
  throw new DataDirLockedError(dataDir, holder?.pid ?? 0, holder?.host ?? '');
}

function holdLock(path: string, mine: string): DataDirLock {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    if (readLock(path)?.raw === mine) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
  // A hub that exits without closing storage (process.exit in a CLI) must not leave a lock
  // that only the pid check can clear.
  process.on('exit', release);
  return { path, release };
}

/** Undefined when the file is gone; garbage (a crash between create and write) parses as pid 0. */
function readLock(path: string): LockContent | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(raw) as { pid?: unknown; host?: unknown };
    const pid = typeof parsed.pid === 'number' ? parsed.pid : 0;
    return { raw, pid, host: typeof parsed.host === 'string' ? parsed.host : '' };
  } catch {
    return { raw, pid: 0, host: '' };
  }
}

function isAlive(holder: LockContent, ourHost: string): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.host && holder.host !== ourHost) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * Moves the stale lock aside atomically (rename), so of several hubs starting together on the
 * same stale lock only one removes it. If what we moved was not the stale lock we inspected
 * (another hub took over in between and wrote its own), we put it back.
 */
function takeOverStale(path: string, stale: LockContent): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  const moved = readLock(aside);
  if (moved && moved.raw !== stale.raw) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone created a lock meanwhile; theirs stands.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Nothing left to clean.
  }
}

export function unwritable(dataDir: string, error: unknown): DataDirUnwritableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DataDirUnwritableError(dataDir, reason, { cause: error });
}

export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
