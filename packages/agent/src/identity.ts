import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDeviceId } from '@flotilla/protocol';
import { AgentError, AgentErrorCodes } from './errors.js';

/** What `<stateDir>/identity.json` holds. Later issues add the device credential here. */
export interface IdentityFile {
  id: string;
  createdAt: string;
}

export const IDENTITY_FILE = 'identity.json';

export function defaultStateDir(): string {
  return join(homedir(), '.flotilla-agent');
}

/** `dev-` and 12 hex digits: 48 random bits, unique across any realistic fleet. */
export function generateDeviceId(): string {
  return `dev-${randomBytes(6).toString('hex')}`;
}

export interface ResolvedIdentity {
  id: string;
  /** Where the id came from: the caller, an existing identity file, or a file just created. */
  source: 'option' | 'file' | 'generated';
}

/**
 * The device id: the one given, else the one in `<stateDir>/identity.json`, else a new one
 * written there once. A file that exists but cannot be read is an error, never a reason to
 * mint a new id: that would silently turn one robot into two devices in the registry.
 */
export function resolveIdentity(options: { id?: string | undefined; stateDir?: string | undefined }): ResolvedIdentity {
  if (options.id !== undefined) {
    if (!isDeviceId(options.id)) {
      throw new AgentError(
        AgentErrorCodes.INVALID_DEVICE_ID,
        `device id ${JSON.stringify(options.id)} must be 1-128 letters, digits, '-' or '_', starting with a letter or digit`,
      );
    }
    return { id: options.id, source: 'option' };
  }
  const dir = options.stateDir ?? defaultStateDir();
  const path = join(dir, IDENTITY_FILE);
  const existing = readIdentity(path);
  if (existing) return { id: existing.id, source: 'file' };
  const created = writeIdentityOnce(dir, path, { id: generateDeviceId(), createdAt: new Date().toISOString() });
  return created;
}

function readIdentity(path: string): IdentityFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // absent, or a path through a non-directory: creating it will report the real problem
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `${path} is not JSON; fix or remove it`, { cause: err });
  }
  const id = (value as { id?: unknown } | null)?.id;
  if (!isDeviceId(id)) {
    throw new AgentError(
      AgentErrorCodes.IDENTITY_UNREADABLE,
      `${path} does not hold a valid device id; fix or remove it`,
    );
  }
  const createdAt = (value as { createdAt?: unknown }).createdAt;
  return { id, createdAt: typeof createdAt === 'string' ? createdAt : '' };
}

/**
 * Writes the identity atomically and at most once: the content goes to a private temporary
 * file (mode 0600, fsynced), which is then hard-linked to the final name. `link` fails if the
 * name exists, so of two agents starting at once on the same directory exactly one id wins,
 * and a crash mid-write never leaves a half-written identity behind.
 */
function writeIdentityOnce(dir: string, path: string, identity: IdentityFile): ResolvedIdentity {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(identity, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new AgentError(
      AgentErrorCodes.IDENTITY_UNWRITABLE,
      `cannot write identity in ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    linkSync(tmp, path);
    return { id: identity.id, source: 'generated' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AgentError(AgentErrorCodes.IDENTITY_UNWRITABLE, `cannot write ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const winner = readIdentity(path);
    if (!winner) throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `${path} vanished while being created`);
    return { id: winner.id, source: 'file' };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file is ours and already linked or useless; a leftover is harmless
    }
  }
}
