import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type RunningHub } from '@flotilla/hub';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';

// `agent` and `sim` against a real hub in this process.
const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-run-'));
let hub: RunningHub;
let client: FlotillaClient;
const ADMIN_PASSWORD = 'run-test-admin-password';
before(async () => {
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir: join(dir, 'hub'),
    logLevel: 'silent',
    adminPassword: ADMIN_PASSWORD,
  });
  const res = await fetch(`${hub.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await res.json()) as { token: string };
  client = new FlotillaClient({ baseUrl: hub.url, token });
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Polls the hub (real I/O, bounded) until the predicate holds. */
async function until(what: string, predicate: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('flotilla agent connects this machine and goes away cleanly on Ctrl-C', { timeout: 20_000 }, async () => {
  const state = join(dir, 'agent');
  const io = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent' } });
  const { token } = await hub.createEnrollmentToken({ uses: 1 });
  const done = main(['agent', '--hub', hub.url, '--id', 'cli-agent-1', '--state', state, '--token', token], io);
  await until('the agent to be online', () =>
    client.getDevice('cli-agent-1').then(
      (d) => d.status.online,
      () => false,
    ),
  );
  io.signal();
  assert.equal(await done, 0, io.err());
  assert.equal((await client.getDevice('cli-agent-1')).network.hostname, hostname(), 'the agent reported this machine');
  await until('the agent to be offline', () => client.getDevice('cli-agent-1').then((d) => !d.status.online));
});

test(
  'flotilla sim runs robots, reports how many are online, and stops them on Ctrl-C',
  { timeout: 20_000 },
  async () => {
    const io = testIo({});
    const { token } = await hub.createEnrollmentToken({ uses: 3 });
    const done = main(
      [
        'sim',
        '--hub',
        hub.url,
        '--count',
        '3',
        '--kind',
        'mcu',
        '--rate',
        '0',
        '--id-prefix',
        'cli-sim',
        '--token',
        token,
        '--state',
        join(dir, 'sim'),
      ],
      io,
    );
    await io.waitForOutput('Press Ctrl-C to stop.');
    assert.match(io.out(), new RegExp(`^Starting 3 simulated robots \\(mcu\\) against ${hub.url}\\n`));
    await until('3 robots online', () =>
      client.listDevices({ online: true, q: 'cli-sim' }).then((p) => p.items.length === 3),
    );
    io.clock.advance(1000);
    await io.waitForOutput('3/3 online');
    io.signal();
    assert.equal(await done, 0);
    await until('the robots to be offline', () =>
      client.listDevices({ online: true, q: 'cli-sim' }).then((p) => p.items.length === 0),
    );
  },
);

test('flotilla sim refuses an id prefix that cannot make device ids', async () => {
  const io = testIo({});
  assert.equal(await main(['sim', '--hub', hub.url, '--id-prefix', 'bad.prefix'], io), 2);
  assert.match(
    io.err(),
    /^flotilla sim: idPrefix "bad.prefix" does not make valid device ids \(see flotilla sim --help\)\n$/,
  );
});
