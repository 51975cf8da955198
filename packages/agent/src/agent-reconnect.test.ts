import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ManualClock } from '@flotilla/protocol';
import { Agent } from './agent.js';
import type { AgentOptions } from './options.js';
import { silentLogger } from './logger.js';
import type { StateEvent } from './state.js';
import { TestPeer, nextState } from './test-peer.js';

type Of<S extends StateEvent['state']> = Extract<StateEvent, { state: S }>;

/** A localhost port nobody listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function makeAgent(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<AgentOptions> & { hubUrl: string },
): { agent: Agent; clock: ManualClock; states: StateEvent[] } {
  const clock = new ManualClock();
  const agent = new Agent({
    id: 'bot-1',
    clock,
    random: () => 0.5,
    logger: silentLogger,
    collectSystemMetrics: false,
    ...options,
  });
  const states: StateEvent[] = [];
  agent.on('state', (e) => states.push(e));
  t.after(() => agent.stop());
  return { agent, clock, states };
}

test('an unreachable hub: Registering → Disconnected → Reconnecting with growing, capped delays', async (t) => {
  const port = await closedPort();
  const { agent, clock, states } = makeAgent(t, {
    hubUrl: `http://127.0.0.1:${port}`,
    backoff: { baseMs: 500, capMs: 4000 },
  });
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    const reconnecting = nextState(agent, 'Reconnecting');
    if (i === 0) agent.start();
    else clock.advance(delays[i - 1]!);
    delays.push((await reconnecting).delayMs);
  }
  // random() = 0.5 draws the middle of each window: 500, 1000, 2000, 4000 (cap), 4000, 4000
  assert.deepEqual(delays, [250, 500, 1000, 2000, 2000, 2000]);
  assert.deepEqual(
    states.slice(0, 7).map((s) => s.state),
    ['Registering', 'Disconnected', 'Reconnecting', 'Registering', 'Disconnected', 'Reconnecting', 'Registering'],
  );
  const disconnected = states.find((s): s is Of<'Disconnected'> => s.state === 'Disconnected');
  assert.equal(disconnected?.reason, 'socket_error');
  assert.match(disconnected?.detail ?? '', /ECONNREFUSED/);
  assert.deepEqual(
    states.filter((s): s is Of<'Registering'> => s.state === 'Registering').map((s) => s.attempt),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(clock.pending, 1, 'only the reconnect timer is waiting');
});

test('no reconnect happens before the backoff delay has passed', async (t) => {
  const port = await closedPort();
  const { agent, clock } = makeAgent(t, { hubUrl: `http://127.0.0.1:${port}` });
  const reconnecting = nextState(agent, 'Reconnecting');
  agent.start();
  const { delayMs } = await reconnecting;
  clock.advance(delayMs - 1);
  assert.equal(agent.state, 'Reconnecting');
  clock.advance(1);
  assert.equal(agent.state, 'Registering');
});

test('reconnects after the hub drops the socket; backoff resets only after a stable session', async (t) => {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 60_000 });
  t.after(() => peer.close());
  const { agent, clock } = makeAgent(t, { hubUrl: peer.url, stableConnectionMs: 10_000 });

  const dropAndReconnect = async (): Promise<number> => {
    const reconnecting = nextState(agent, 'Reconnecting');
    const disconnected = nextState(agent, 'Disconnected');
    peer.drop('bot-1');
    assert.equal((await disconnected).reason, 'socket_closed');
    const { delayMs } = await reconnecting;
    const connected = nextState(agent, 'Connected');
    clock.advance(delayMs);
    await connected;
    return delayMs;
  };

  const first = nextState(agent, 'Connected');
  agent.start();
  await first;
  assert.equal(await dropAndReconnect(), 250, 'first window');
  assert.equal(await dropAndReconnect(), 500, 'a session that dropped at once does not reset the backoff');
  clock.advance(10_000);
  assert.equal(await dropAndReconnect(), 250, 'a stable session resets it');
  assert.equal(peer.accepted, 4);
  assert.equal(agent.stats.attempts, 4);
});

test('no welcome within the registration timeout ends the attempt', async (t) => {
  const peer = await TestPeer.start({ welcome: false });
  t.after(() => peer.close());
  const { agent, clock } = makeAgent(t, { hubUrl: peer.url, registrationTimeoutMs: 3000 });
  const hello = peer.nextFrame((m) => m.type === 'hello');
  agent.start();
  await hello;
  const disconnected = nextState(agent, 'Disconnected');
  clock.advance(2999);
  assert.equal(agent.state, 'Registering');
  clock.advance(1);
  assert.equal((await disconnected).reason, 'registration_timeout');
});

test('three silent heartbeat intervals mean a dead link', async (t) => {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 1000, ack: false });
  t.after(() => peer.close());
  const { agent, clock } = makeAgent(t, { hubUrl: peer.url });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;
  const disconnected = nextState(agent, 'Disconnected');
  const twoBeats = new Promise<void>((resolve) => {
    let n = 0;
    peer.on('frame', (m) => void (m.type === 'heartbeat' && ++n === 2 && resolve()));
  });
  clock.advance(2999);
  assert.equal(agent.state, 'Connected');
  await twoBeats; // sent at 1 s and 2 s, never acknowledged
  clock.advance(1);
  const e = await disconnected;
  assert.equal(e.reason, 'heartbeat_timeout');
  assert.match(e.detail ?? '', /nothing from the hub for 3000 ms/);
});

test('pings from a hub that paused reading (backpressure) keep the link alive', async (t) => {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 1000, ack: false });
  t.after(() => peer.close());
  const { agent, clock } = makeAgent(t, { hubUrl: peer.url, id: 'bot-ping' });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;
  clock.advance(2500);
  const socket = peer.sessions.get('bot-ping');
  assert.ok(socket);
  // ws answers a ping before it tells the agent: the pong arriving means the agent has seen it.
  const pong = new Promise<void>((resolve) => socket.once('pong', () => resolve()));
  socket.ping();
  await pong;
  clock.advance(2500);
  assert.equal(agent.state, 'Connected', 'at 5 s: 2.5 s since the ping, no heartbeat acknowledged since 0');
});

test('replaced by another connection: backs off with the widest window instead of fighting', async (t) => {
  const peer = await TestPeer.start();
  t.after(() => peer.close());
  const a = makeAgent(t, { hubUrl: peer.url, backoff: { baseMs: 500, capMs: 30_000 } });
  const b = makeAgent(t, { hubUrl: peer.url });
  const aConnected = nextState(a.agent, 'Connected');
  a.agent.start();
  await aConnected;
  const aReconnecting = nextState(a.agent, 'Reconnecting');
  const aDisconnected = nextState(a.agent, 'Disconnected');
  const bConnected = nextState(b.agent, 'Connected');
  b.agent.start();
  await bConnected;
  assert.equal((await aDisconnected).reason, 'replaced');
  assert.equal((await aReconnecting).delayMs, 15_000, 'middle of the 30 s cap window');
});

test('stop() from any state is final: no timers left, no reconnect', async (t) => {
  const port = await closedPort();
  const { agent, clock, states } = makeAgent(t, { hubUrl: `http://127.0.0.1:${port}` });
  const reconnecting = nextState(agent, 'Reconnecting');
  agent.start();
  await reconnecting;
  await agent.stop();
  await agent.stop(); // idempotent
  assert.equal(agent.state, 'Stopped');
  assert.equal(clock.pending, 0);
  clock.advance(60_000);
  assert.equal(states.at(-1)?.state, 'Stopped');
  assert.equal(states.filter((s) => s.state === 'Stopped').length, 1);
});

test('stop() while connected closes the socket cleanly', async (t) => {
  const peer = await TestPeer.start();
  t.after(() => peer.close());
  const { agent, clock } = makeAgent(t, { hubUrl: peer.url });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;
  const gone = new Promise<string>((resolve) => peer.once('gone', resolve));
  await agent.stop();
  assert.equal(await gone, 'bot-1');
  assert.equal(clock.pending, 0);
});

test('a state listener may stop the agent in the middle of a transition', async (t) => {
  const port = await closedPort();
  const { agent, clock } = makeAgent(t, { hubUrl: `http://127.0.0.1:${port}` });
  const stopped = nextState(agent, 'Stopped');
  agent.on('state', (e) => {
    if (e.state === 'Disconnected') void agent.stop();
  });
  agent.start();
  await stopped;
  assert.equal(agent.state, 'Stopped');
  assert.equal(clock.pending, 0, 'no reconnect scheduled after the stop');
});

test('with several hubs, each reconnect tries the next one: a hub that is gone is left for another', async (t) => {
  const gone = await closedPort();
  const first = await TestPeer.start();
  const second = await TestPeer.start();
  t.after(() => first.close());
  t.after(() => second.close());
  const { agent, clock, states } = makeAgent(t, {
    hubUrl: first.url,
    hubUrls: [`http://127.0.0.1:${gone}`, second.url],
    backoff: { baseMs: 100, capMs: 100 },
  });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;
  assert.ok(first.sessions.has('bot-1'));

  // The first hub goes away: the agent tries the unreachable one, then the third, and stays there.
  const onSecond = nextState(agent, 'Connected');
  const reconnecting = nextState(agent, 'Reconnecting');
  first.drop('bot-1');
  clock.advance((await reconnecting).delayMs);
  const again = nextState(agent, 'Reconnecting');
  clock.advance((await again).delayMs);
  await onSecond;
  assert.ok(second.sessions.has('bot-1'));
  const tried = states.filter((s): s is Of<'Registering'> => s.state === 'Registering').map((s) => s.url);
  assert.deepEqual(
    tried.map((url) => new URL(url).port),
    [first.url, `http://127.0.0.1:${gone}`, second.url].map((url) => new URL(url).port),
  );
});
