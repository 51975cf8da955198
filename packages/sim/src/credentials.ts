import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile, type CredentialStore } from '@flotilla/agent';
import { SimError, SimErrorCodes } from './errors.js';

export const SIM_CREDENTIALS_FILE = 'sim-credentials.json';

/**
 * The credentials of a simulated fleet, by device id: one file (`<stateDir>/sim-credentials.json`,
 * mode 0600) instead of one identity file per robot, so a restarted simulation presents the
 * credentials its devices got at enrollment instead of enrolling again. Without a directory
 * they live in memory, for this run only. Writes are coalesced: 5,000 robots enrolling at once
 * write the file a few times, not 5,000 times.
 */
export class SimCredentials implements CredentialStore {
  private readonly byId = new Map<string, string>();
  private readonly path: string | undefined;
  private flushing: NodeJS.Immediate | undefined;

  constructor(stateDir: string | undefined) {
    if (stateDir === undefined) return;
    this.path = join(stateDir, SIM_CREDENTIALS_FILE);
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(this.path, err);
    }
    if (text === undefined) return;
    try {
      const value = JSON.parse(text) as { credentials?: Record<string, unknown> };
      for (const [id, secret] of Object.entries(value.credentials ?? {}))
        if (typeof secret === 'string') this.byId.set(id, secret);
    } catch (err) {
      throw unusable(this.path, err);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  load(deviceId: string): string | undefined {
    return this.byId.get(deviceId);
  }

  save(deviceId: string, secret: string): void {
    this.byId.set(deviceId, secret);
    if (this.path !== undefined) this.flushing ??= setImmediate(() => this.flush());
  }

  /** Writes pending changes now (also done on `stop()`). */
  flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.path === undefined) return;
    const dir = join(this.path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writePrivateFile(this.path, JSON.stringify({ credentials: Object.fromEntries(this.byId) }) + '\n');
  }
}

function unusable(path: string, cause: unknown): SimError {
  return new SimError(
    SimErrorCodes.INVALID_OPTIONS,
    `cannot use ${path}: ${(cause as Error).message}; fix or remove it`,
    {
      cause,
    },
  );
}
