import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CliError, CliErrorCodes, ExitCodes } from './errors.js';
import type { Env } from './io.js';

/**
 * What `flotilla login` keeps: per hub, a password session (access token, refresh token) or an
 * API token, and which hub was logged into last. The file is the user's secret: mode 0600 in a
 * 0700 directory, rewritten atomically, and never printed.
 */
export interface StoredSession {
  kind: 'session';
  username: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires, by this machine's clock. */
  expiresAt: number;
}

export interface StoredApiToken {
  kind: 'token';
  /** Who the token acts for, as the hub said at login (for messages only). */
  username: string;
  token: string;
}

export type StoredLogin = StoredSession | StoredApiToken;

export interface CredentialsFile {
  version: 1;
  /** The hub of the latest login: commands use it when no --hub or FLOTILLA_HUB is given. */
  current: string | null;
  /** Keyed by hub URL (`normalizeHubUrl`). */
  hubs: Record<string, StoredLogin>;
}

export const CREDENTIALS_FILE = 'credentials.json';

/**
 * `$FLOTILLA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/flotilla`, else `$HOME/.config/flotilla`.
 * Undefined when the environment names none of them (a test, a bare service account).
 */
export function configDir(env: Env): string | undefined {
  const set = (name: string): string | undefined => (env[name] ? env[name] : undefined);
  const explicit = set('FLOTILLA_CONFIG_DIR');
  if (explicit) return explicit;
  const xdg = set('XDG_CONFIG_HOME');
  if (xdg) return join(xdg, 'flotilla');
  const home = set('HOME');
  return home ? join(home, '.config', 'flotilla') : undefined;
}

/** One spelling per hub, so `http://hub:8080/` and `http://hub:8080` share a login. */
export function normalizeHubUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  parsed.search = '';
  return parsed.href.replace(/\/+$/, '');
}

const empty = (): CredentialsFile => ({ version: 1, current: null, hubs: {} });

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isLogin(value: unknown): value is StoredLogin {
  const v = value as Partial<StoredSession> & Partial<StoredApiToken>;
  if (typeof v !== 'object' || v === null || !isString(v.username)) return false;
  if (v.kind === 'token') return isString(v.token);
  return (
    v.kind === 'session' &&
    isString(v.accessToken) &&
    isString(v.refreshToken) &&
    typeof v.expiresAt === 'number' &&
    Number.isFinite(v.expiresAt)
  );
}

function isCredentialsFile(value: unknown): value is CredentialsFile {
  const v = value as Partial<CredentialsFile> | null;
  if (typeof v !== 'object' || v === null || v.version !== 1) return false;
  if (v.current !== null && !isString(v.current)) return false;
  if (typeof v.hubs !== 'object' || v.hubs === null || Array.isArray(v.hubs)) return false;
  return Object.values(v.hubs).every(isLogin);
}

export class CredentialsError extends CliError {
  override readonly name = 'CredentialsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(CliErrorCodes.FAILED, message, ExitCodes.FAILURE, options);
  }
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/** The credentials file of one config directory. */
export class CredentialStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, CREDENTIALS_FILE);
  }

  /** The stored logins; an empty set when there is no file. Throws CredentialsError when it is unreadable. */
  read(): CredentialsFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw new CredentialsError(`cannot read ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // The message never quotes the file: it holds tokens.
    if (!isCredentialsFile(parsed))
      throw new CredentialsError(`${this.path} is not a valid credentials file; run flotilla login again`);
    return parsed;
  }

  /**
   * Writes the whole file: a temporary file created 0600, fsynced, renamed over the old one, so
   * a crash leaves the old file or the new one, never half of one. No file when nothing is stored.
   */
  write(file: CredentialsFile): void {
    if (Object.keys(file.hubs).length === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    this.#ensureDir();
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new CredentialsError(`cannot write ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
  }

  /** Deletes the file; true when there was one. */
  remove(): boolean {
    try {
      rmSync(this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new CredentialsError(`cannot delete ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
  }

  /**
   * Runs `work` while holding `credentials.json.lock`, so that two commands refreshing the same
   * session at once do not both present its refresh token: the hub would take the second use
   * for a stolen token replayed and end every session of the user. A lock older than 30 s is
   * left over from a killed process and broken.
   */
  async locked<T>(work: () => Promise<T>, sleep: (ms: number) => Promise<void>): Promise<T> {
    this.#ensureDir();
    const lock = `${this.path}.lock`;
    const started = Date.now();
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new CredentialsError(`cannot lock ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
            cause: err,
          });
      }
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > LOCK_STALE_MS) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS)
        throw new CredentialsError(`${lock} is held by another flotilla command; remove it if none is running`);
      await sleep(50);
    }
    try {
      return await work();
    } finally {
      rmSync(lock, { force: true });
    }
  }

  #ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      // An existing directory keeps its mode otherwise; this one holds secrets.
      chmodSync(this.dir, 0o700);
    } catch (err) {
      throw new CredentialsError(`cannot create ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
  }
}

/** The store of this environment, or undefined when no config directory can be named. */
export function credentialStore(env: Env): CredentialStore | undefined {
  const dir = configDir(env);
  return dir === undefined ? undefined : new CredentialStore(dir);
}
