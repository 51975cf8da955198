import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type Message, type MessageOf } from '@flotilla/protocol';
import { silentLogger } from '@flotilla/agent';
import { TestPeer } from '@flotilla/agent/test-peer';
import { SIM_CREDENTIALS_FILE } from './credentials.js';
import { SimError } from './errors.js';
import { startSimulation } from './simulation.js';

const hellos = (peer: TestPeer): MessageOf<'hello'>[] =>
  peer.frames.filter((m: Message): m is MessageOf<'hello'> => m.type === 'hello');

async function allOnline(sim: { onlineCount(): number }, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (sim.onlineCount() < n) {
    if (Date.now() > deadline) throw new Error(`only ${sim.onlineCount()} of ${n} online`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('a simulated fleet enrolls once and reuses its credentials after a restart', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-sim-cred-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const peer = await TestPeer.start({
    authenticate: (device, token) =>
      token === 'fle_fleet'
        ? { credential: `fld_${device}` }
        : token === `fld_${device}`
          ? {}
          : { refuse: 'unauthorized' },
  });
  t.after(() => peer.close());
  const base = { hubUrl: peer.url, count: 3, rate: 0, logger: silentLogger, seed: 1, stateDir };

  const first = await startSimulation({ ...base, clock: new ManualClock(), token: 'fle_fleet' });
  await allOnline(first, 3);
  await first.stop();
  const path = join(stateDir, SIM_CREDENTIALS_FILE);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as { credentials: Record<string, string> };
  assert.deepEqual(stored.credentials, Object.fromEntries(first.devices.map((id) => [id, `fld_${id}`])));

  // The enrollment token is used up now; the devices do not need it any more.
  const second = await startSimulation({ ...base, clock: new ManualClock(), token: 'fle_used_up' });
  await allOnline(second, 3);
  await second.stop();
  const tokens = hellos(peer).map((h) => h.payload.token);
  assert.deepEqual(tokens.slice(3).sort(), first.devices.map((id) => `fld_${id}`).sort());
});

test('an unreadable credentials file is refused, not overwritten', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'flotilla-sim-cred-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, SIM_CREDENTIALS_FILE), 'not json');
  await assert.rejects(
    startSimulation({ hubUrl: 'http://127.0.0.1:1', count: 1, stateDir, logger: silentLogger }),
    (err: unknown) => err instanceof SimError && err.code === 'invalid_options',
  );
  assert.equal(readFileSync(join(stateDir, SIM_CREDENTIALS_FILE), 'utf8'), 'not json');
});
