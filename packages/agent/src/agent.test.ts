import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Message, type MessageOf } from '@flotilla/protocol';
import { Agent } from './agent.js';
import type { AgentOptions } from './options.js';
import { AgentError } from './errors.js';
import { silentLogger } from './logger.js';
import type { StateEvent } from './state.js';
import { SystemMetricNames } from './system-metrics.js';
import { TestPeer, nextState, type TestPeerOptions } from './test-peer.js';
import { AGENT_VERSION } from './version.js';

/** One peer and one connected agent on a ManualClock; closed after the test body. */
async function session(
  t: { after: (fn: () => Promise<void>) => void },
  agentOptions: Partial<AgentOptions> = {},
  peerOptions: TestPeerOptions = {},
): Promise<{ peer: TestPeer; agent: Agent; clock: ManualClock; states: StateEvent[] }> {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 1000, ...peerOptions });
  const clock = new ManualClock();
  const agent = new Agent({
    hubUrl: peer.url,
    id: 'bot-1',
    clock,
    random: () => 0.5,
    logger: silentLogger,
    collectSystemMetrics: false,
    ...agentOptions,
  });
  const states: StateEvent[] = [];
  agent.on('state', (e) => states.push(e));
  t.after(async () => {
    await agent.stop();
    await peer.close();
  });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;
  return { peer, agent, clock, states };
}

const ofType =
  <T extends Message['type']>(type: T) =>
  (m: Message): m is MessageOf<T> =>
    m.type === type;

test('says hello with facts, capabilities and token, then is Connected', async (t) => {
  const { peer, agent, states } = await session(t, {
    token: 'enroll-123',
    facts: { type: 'lekiwi', labels: { site: 'lab' }, capabilities: [{ name: 'hal.v1.battery' }] },
  });
  assert.deepEqual(
    states.map((s) => s.state),
    ['Registering', 'Connected'],
  );
  const registering = states[0] as Extract<StateEvent, { state: 'Registering' }>;
  assert.equal(registering.url, peer.url.replace('http:', 'ws:') + '/ws/agent');
  assert.equal(agent.sessionId, (states[1] as Extract<StateEvent, { state: 'Connected' }>).sessionId);

  const hello = peer.frames.find(ofType('hello'));
  assert.ok(hello);
  assert.equal(hello.device, 'bot-1');
  assert.equal(hello.seq, 1, 'seq starts at 1 in each session');
  assert.equal(hello.payload.type, 'lekiwi');
  assert.deepEqual(hello.payload.labels, { site: 'lab' });
  assert.equal(hello.payload.token, 'enroll-123');
  assert.equal(hello.payload.software?.agentVersion, AGENT_VERSION);
  assert.ok(hello.payload.network?.hostname, 'host facts included');
  assert.ok(hello.payload.hardware?.arch);
  assert.ok((hello.payload.uptime ?? -1) >= 0);
  assert.deepEqual(hello.payload.capabilities, [{ name: 'hal.v1.battery' }]);
});

test('declares the capabilities of its registered command handlers', async (t) => {
  const peer = await TestPeer.start();
  const agent = new Agent({
    hubUrl: peer.url,
    id: 'bot-2',
    logger: silentLogger,
    collectSystemMetrics: false,
    clock: new ManualClock(),
  });
  t.after(async () => {
    await agent.stop();
    await peer.close();
  });
  agent.registerCommandHandler('hal.v1.estop', 'engage', () => true);
  agent.registerCommandHandler('hal.v1.estop', 'release', () => true);
  agent.registerCommandHandler('hal.v1.led', 'set', () => true);
  const hello = peer.nextFrame(ofType('hello'));
  agent.start();
  assert.deepEqual(((await hello) as MessageOf<'hello'>).payload.capabilities, [
    { name: 'hal.v1.estop' },
    { name: 'hal.v1.led' },
  ]);
});

test('heartbeats at the interval the hub gave, with increasing seq', async (t) => {
  // Each ack must reach the agent before time moves on, or three silent intervals would
  // (rightly) count as a dead link; the RTT callback says when the agent has read it.
  let acked: () => void = () => {};
  const { peer, clock } = await session(t, { onRttSample: () => acked() }, { heartbeatIntervalMs: 2000 });
  clock.advance(1999);
  assert.equal(peer.frames.filter(ofType('heartbeat')).length, 0);
  const seqs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const beat = peer.nextFrame(ofType('heartbeat'));
    const ack = new Promise<void>((resolve) => (acked = resolve));
    clock.advance(i === 0 ? 1 : 2000);
    seqs.push((await beat).seq);
    await ack;
  }
  assert.deepEqual(seqs, [2, 3, 4, 5], 'hello was 1');
  const beats = peer.frames.filter(ofType('heartbeat'));
  assert.equal(beats.length, 4);
  assert.ok(beats.every((b) => typeof b.payload.uptime === 'number'));
  assert.deepEqual(
    beats.map((b) => b.ts - 1_700_000_000_000),
    [2000, 4000, 6000, 8000],
    'stamped with the injected clock',
  );
});

test('measures heartbeat round trip from the matching ack', async (t) => {
  const samples: number[] = [];
  let sampled: (ms: number) => void = () => {};
  const onRttSample = (ms: number): void => {
    samples.push(ms);
    sampled(ms);
  };
  const { peer, agent, clock } = await session(t, { onRttSample }, { ack: false });
  const beat = peer.nextFrame(ofType('heartbeat'));
  clock.advance(1000);
  const { seq } = await beat;
  clock.advance(42);
  const rtt = new Promise<number>((resolve) => (sampled = resolve));
  peer.send('bot-1', 'ack', { of: 'heartbeat', seq: seq - 1 }); // not the pending heartbeat: ignored
  peer.send('bot-1', 'ack', { of: 'heartbeat', seq });
  assert.equal(await rtt, 42);
  assert.equal(agent.lastRttMs, 42);
  assert.deepEqual(samples, [42]);
});

test('answers commands with results: succeeded, unsupported, timed out', async (t) => {
  let started: () => void = () => {};
  const slowStarted = new Promise<void>((resolve) => (started = resolve));
  const { peer, agent, clock } = await session(t);
  agent.registerCommandHandler('hal.v1.motor.differential', 'drive', (args) => ({ accepted: args }));
  agent.registerCommandHandler('slow.thing', 'go', () => {
    started();
    return new Promise(() => {});
  });

  const ok = peer.nextFrame((m) => m.type === 'result' && m.payload.id === 'c1');
  peer.send('bot-1', 'command', {
    id: 'c1',
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 0.1, right: 0.1 },
  });
  assert.deepEqual((await ok).payload, {
    id: 'c1',
    status: 'succeeded',
    result: { accepted: { left: 0.1, right: 0.1 } },
  });

  const unsupported = peer.nextFrame((m) => m.type === 'result' && m.payload.id === 'c2');
  peer.send('bot-1', 'command', { id: 'c2', capability: 'hal.v1.arm', command: 'wave', args: {} });
  const u = (await unsupported) as MessageOf<'result'>;
  assert.equal(u.payload.status, 'failed');
  assert.equal(u.payload.error?.code, 'unsupported_command');

  const timedOut = peer.nextFrame((m) => m.type === 'result' && m.payload.id === 'c3');
  peer.send('bot-1', 'command', { id: 'c3', capability: 'slow.thing', command: 'go', args: {}, timeoutMs: 500 });
  await slowStarted;
  clock.advance(500);
  const to = (await timedOut) as MessageOf<'result'>;
  assert.equal(to.payload.status, 'timed_out');
  assert.equal(to.payload.error?.code, 'command_timed_out');
});

test('a job reports progress and stops when the hub cancels it; its handler is told through its signal', async (t) => {
  const { peer, agent } = await session(t);
  let abortedWith: unknown;
  agent.registerCommandHandler('hal.v1.motor.stepper', 'home', async (_args, ctx) => {
    ctx.progress(0.25, 'seeking the switch');
    ctx.progress(7); // clamped
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => {
        abortedWith = ctx.signal.reason;
        resolve();
      }),
    );
    ctx.progress(0.9); // after the answer: dropped
    return { homed: true };
  });
  const first = peer.nextFrame((m) => m.type === 'progress');
  const clampedFrame = peer.nextFrame((m) => m.type === 'progress' && m.payload.progress === 1);
  const result = peer.nextFrame((m) => m.type === 'result' && m.payload.id === 'j1');
  peer.send('bot-1', 'command', { id: 'j1', capability: 'hal.v1.motor.stepper', command: 'home', args: {} });
  assert.deepEqual((await first).payload, { id: 'j1', progress: 0.25, message: 'seeking the switch' });
  assert.deepEqual((await clampedFrame).payload, { id: 'j1', progress: 1 });

  peer.send('bot-1', 'cancel', { id: 'j1', reason: 'operator stopped it' });
  assert.deepEqual((await result).payload, {
    id: 'j1',
    status: 'cancelled',
    error: { code: 'cancelled', message: 'operator stopped it' },
  });
  assert.equal(abortedWith, 'operator stopped it');
  // Cancelling what is not running changes nothing: the next command runs as usual.
  peer.send('bot-1', 'cancel', { id: 'nothing-here' });
  agent.registerCommandHandler('hal.v1.led', 'set', () => ({ lit: true }));
  const next = peer.nextFrame((m) => m.type === 'result' && m.payload.id === 'after');
  peer.send('bot-1', 'command', { id: 'after', capability: 'hal.v1.led', command: 'set', args: { on: true } });
  assert.deepEqual((await next).payload, { id: 'after', status: 'succeeded', result: { lit: true } });
});

test('answers a malformed or misaddressed frame with an error frame and stays connected', async (t) => {
  const { peer, agent } = await session(t);
  const badJson = peer.nextFrame(ofType('error'));
  peer.sendRaw('bot-1', '{not json');
  assert.equal(((await badJson) as MessageOf<'error'>).payload.code, 'bad_json');

  const wrongType = peer.nextFrame(ofType('error'));
  peer.sendRaw(
    'bot-1',
    JSON.stringify({ v: 1, type: 'telemetry', device: 'bot-1', seq: 9, ts: 1, payload: { metrics: {} } }),
  );
  assert.deepEqual(((await wrongType) as MessageOf<'error'>).payload.ref, { type: 'telemetry', seq: 9 });
  assert.equal(((await wrongType) as MessageOf<'error'>).payload.code, 'wrong_direction');

  const other = peer.nextFrame(ofType('error'));
  peer.sendRaw(
    'bot-1',
    JSON.stringify({ v: 1, type: 'ack', device: 'bot-99', seq: 10, ts: 1, payload: { of: 'heartbeat', seq: 1 } }),
  );
  assert.equal(((await other) as MessageOf<'error'>).payload.code, 'device_mismatch');

  assert.equal(agent.state, 'Connected');
  assert.equal(agent.stats.invalidFrames, 3);
});

test('sends numbered telemetry, events and logs while connected; buffers telemetry and drops the rest otherwise', async (t) => {
  const { peer, agent, clock, states } = await session(t);
  const telemetry = peer.nextFrame(ofType('telemetry'));
  assert.equal(agent.sendTelemetry({ 'battery.soc': 87.5 }, { pose: { x: 1, y: 2 } }, 1_700_000_000_123), true);
  const tm = (await telemetry) as MessageOf<'telemetry'>;
  assert.ok('seq' in tm.payload && tm.payload.seq !== undefined, 'numbered');
  const first = tm.payload.seq;
  assert.deepEqual(tm.payload, { metrics: { 'battery.soc': 87.5 }, samples: { pose: { x: 1, y: 2 } }, seq: first });
  assert.equal(tm.ts, 1_700_000_000_123);

  const event = peer.nextFrame(ofType('event'));
  agent.sendEvent('teleop.started', { operator: 'ana' });
  assert.deepEqual(((await event) as MessageOf<'event'>).payload, {
    type: 'teleop.started',
    data: { operator: 'ana' },
  });
  const log = peer.nextFrame(ofType('log'));
  agent.sendLog('warn', 'wheel slip', { wheel: 'left' });
  assert.deepEqual(((await log) as MessageOf<'log'>).payload, {
    level: 'warn',
    message: 'wheel slip',
    fields: { wheel: 'left' },
  });

  assert.throws(
    () => agent.sendTelemetry({ 'bad name': 1 }),
    (e: unknown) => e instanceof AgentError && e.code === 'invalid_message',
  );

  const gone = nextState(agent, 'Disconnected');
  peer.drop('bot-1');
  await gone;
  assert.equal(agent.sendTelemetry({ 'battery.soc': 80 }, undefined, 1_700_000_000_200), true, 'buffered');
  assert.equal(agent.sendEvent('x'), false);
  assert.equal(agent.stats.dropped, 1);
  assert.equal(agent.telemetryStats.records, 2, 'nothing was acknowledged: both are kept');

  // The next session sends everything unacknowledged again, in order, with the original times.
  const replay = peer.nextFrame(ofType('telemetry'));
  const reconnected = nextState(agent, 'Connected');
  const waiting = states[states.length - 1] as Extract<StateEvent, { state: 'Reconnecting' }>;
  clock.advance(waiting.delayMs);
  await reconnected;
  const again = (await replay) as MessageOf<'telemetry'>;
  assert.ok('records' in again.payload);
  assert.deepEqual(
    again.payload.records.map((r) => [r.seq, r.ts]),
    [
      [first, 1_700_000_000_123],
      [first + 1, 1_700_000_000_200],
    ],
  );
  await agent.stop();
  assert.equal(agent.sendTelemetry({ 'battery.soc': 80 }), false, 'stopped: dropped');
  assert.equal(agent.stats.dropped, 2);
});

test('reports system metrics as soon as it connects', async (t) => {
  const peer = await TestPeer.start();
  const agent = new Agent({ hubUrl: peer.url, id: 'bot-3', logger: silentLogger, clock: new ManualClock() });
  t.after(async () => {
    await agent.stop();
    await peer.close();
  });
  const first = peer.nextFrame(ofType('telemetry'));
  agent.start();
  const { payload } = (await first) as MessageOf<'telemetry'>;
  assert.ok('metrics' in payload);
  const { metrics } = payload;
  for (const name of [
    SystemMetricNames.memory,
    SystemMetricNames.disk,
    SystemMetricNames.load,
    SystemMetricNames.uptime,
  ]) {
    assert.equal(typeof metrics[name], 'number', name);
  }
});

test('a second start() is refused', async (t) => {
  const { agent } = await session(t);
  assert.throws(
    () => agent.start(),
    (e: unknown) => e instanceof AgentError && e.code === 'already_started',
  );
});
