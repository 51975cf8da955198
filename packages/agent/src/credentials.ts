import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError, AgentErrorCodes } from './errors.js';
import { IDENTITY_FILE, defaultStateDir } from './identity.js';

/**
 * Where an agent keeps the credential (`fld_…`) the hub gave it at enrollment. The default
 * store is `<stateDir>/identity.json`, beside the device id, mode 0600; the simulator brings its
 * own store (one file for a whole simulated fleet).
 */
export interface CredentialStore {
  load(deviceId: string): string | undefined;
  save(deviceId: string, secret: string): void;
}

/**
 * Writes `content` to `path` atomically: a private temporary file (0600, fsynced) renamed over
 * the old one, so a crash leaves either the old file or the new one, never half of either.
 */
export function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

function readJson(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `${path} is not a JSON object; fix or remove it`);
}

/**
 * The agent's own store: `credential` in `<stateDir>/identity.json`, kept only for the device
 * id the file names (a credential is the secret of one device id).
 */
export class IdentityFileCredentials implements CredentialStore {
  private readonly dir: string;
  private readonly path: string;

  constructor(stateDir: string | undefined) {
    this.dir = stateDir ?? defaultStateDir();
    this.path = join(this.dir, IDENTITY_FILE);
  }

  load(deviceId: string): string | undefined {
    const file = readJson(this.path);
    if (!file || file['id'] !== deviceId) return undefined;
    const credential = file['credential'];
    return typeof credential === 'string' && credential !== '' ? credential : undefined;
  }

  save(deviceId: string, secret: string): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = readJson(this.path) ?? {};
      const next: Record<string, unknown> =
        file['id'] === deviceId ? { ...file } : { id: deviceId, createdAt: new Date().toISOString() };
      next['credential'] = secret;
      writePrivateFile(this.path, JSON.stringify(next, null, 2) + '\n');
    } catch (err) {
      if (err instanceof AgentError) throw err;
      throw new AgentError(
        AgentErrorCodes.IDENTITY_UNWRITABLE,
        `cannot store the credential in ${this.path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
