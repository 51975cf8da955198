import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from './io.js';

/**
 * A real `flotilla hub --sim N --sim-kind KIND` in this process, logged in as admin, with every
 * robot online: for CLI tests that talk to simulated robots. Tests only.
 */
export interface SimHub {
  readonly url: string;
  readonly token: string;
  /** A client of the hub, as admin. */
  client(): FlotillaClient;
  /** Runs `flotilla ARGV` against the hub as admin. */
  cli(argv: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Ctrl-C, checks the hub stopped cleanly, removes its data. */
  stop(): Promise<void>;
}

const PASSWORD = 'sim-hub-admin-password';

export async function startSimHub(kind: string, count: number): Promise<SimHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-sim-hub-'));
  const io = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent', FLOTILLA_ADMIN_PASSWORD: PASSWORD } });
  const argv = ['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--mqtt-port', 'off'];
  const done = main([...argv, '--sim', String(count), '--sim-kind', kind], io);
  const stop = async (): Promise<void> => {
    io.signal();
    assert.equal(await done, 0, io.err());
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await io.waitForOutput('Press Ctrl-C to stop.');
    const url = /Console and API +(http:\/\/\S+)\//.exec(io.out())?.[1] ?? '';
    const token = (await new FlotillaClient({ baseUrl: url }).login('admin', PASSWORD)).token;
    const client = (): FlotillaClient => new FlotillaClient({ baseUrl: url, token });
    await until(async () => (await client().listDevices({ online: true })).items.length === count, 'robots online');
    return {
      url,
      token,
      client,
      async cli(args) {
        const cliIo = testIo({ env: { FLOTILLA_HUB: url, FLOTILLA_TOKEN: token }, now: Date.now() });
        const code = await main(args, cliIo);
        return { code, out: cliIo.out(), err: cliIo.err() };
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Polls real progress (a hub and robots over sockets), bounded. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
