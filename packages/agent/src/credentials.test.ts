import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type Message } from '@flotilla/protocol';
import { Agent } from './agent.js';
import { silentLogger } from './logger.js';
import type { StateEvent } from './state.js';
import { TestPeer, nextState } from './test-peer.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-cred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const tokensOf = (peer: TestPeer): (string | undefined)[] =>
  peer.frames.filter((m): m is Extract<Message, { type: 'hello' }> => m.type === 'hello').map((m) => m.payload.token);

test('enrolls with the token, keeps the credential 0600 in identity.json, and presents it from then on', async (t) => {
  const stateDir = tempDir(t);
  const peer = await TestPeer.start({
    heartbeatIntervalMs: 1000,
    authenticate: (_device, token) =>
      token === 'fle_enroll' ? { credential: 'fld_secret' } : token === 'fld_secret' ? {} : { refuse: 'unauthorized' },
  });
  t.after(() => peer.close());
  const clock = new ManualClock();
  const options = {
    hubUrl: peer.url,
    stateDir,
    token: 'fle_enroll',
    clock,
    random: () => 0,
    logger: silentLogger,
    collectSystemMetrics: false,
    systemFacts: false,
  };
  const agent = new Agent(options);
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;

  const path = join(stateDir, 'identity.json');
  const file = JSON.parse(readFileSync(path, 'utf8')) as { id: string; credential: string };
  assert.equal(file.id, agent.id);
  assert.equal(file.credential, 'fld_secret');
  assert.equal(statSync(path).mode & 0o777, 0o600);

  // A dropped connection reconnects with the credential, not the enrollment token.
  const again = nextState(agent, 'Connected');
  peer.drop(agent.id);
  await nextState(agent, 'Reconnecting');
  clock.advance(1000);
  await again;
  await agent.stop();

  // So does a restarted agent on the same state directory.
  const restarted = new Agent(options);
  const back = nextState(restarted, 'Connected');
  restarted.start();
  await back;
  await restarted.stop();
  assert.deepEqual(tokensOf(peer), ['fle_enroll', 'fld_secret', 'fld_secret']);
});

test('a refused device waits authRetryMs before trying again instead of hammering the hub', async (t) => {
  const peer = await TestPeer.start({ authenticate: () => ({ refuse: 'credential_revoked' }) });
  t.after(() => peer.close());
  const clock = new ManualClock();
  const agent = new Agent({
    hubUrl: peer.url,
    stateDir: tempDir(t),
    token: 'fle_whatever',
    authRetryMs: 120_000,
    clock,
    random: () => 0.5,
    logger: silentLogger,
    collectSystemMetrics: false,
    systemFacts: false,
  });
  t.after(() => agent.stop());
  const states: StateEvent[] = [];
  agent.on('state', (e) => states.push(e));
  const reconnecting = nextState(agent, 'Reconnecting');
  agent.start();
  const waiting = (await reconnecting) as Extract<StateEvent, { state: 'Reconnecting' }>;
  assert.equal(waiting.delayMs, 120_000);
  const disconnected = states.find((s) => s.state === 'Disconnected') as Extract<StateEvent, { state: 'Disconnected' }>;
  assert.equal(disconnected.reason, 'refused');

  clock.advance(119_999);
  assert.equal(agent.state, 'Reconnecting', 'no retry before authRetryMs');
  assert.equal(peer.accepted, 1);
  const registering = nextState(agent, 'Registering');
  clock.advance(1);
  await registering;
});
