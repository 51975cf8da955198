import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Message, type MessageOf } from '@flotilla/protocol';
import { Agent } from '../agent.js';
import { createLogger } from '../logger.js';
import { TestPeer, nextState } from '../test-peer.js';
import type { IndicatorReading, TeleoperationIndicator } from './indicator.js';

const isEvent =
  (type: string) =>
  (m: Message): m is MessageOf<'event'> =>
    m.type === 'event' && m.payload.type === type;

/** Waits for a frame while letting the agent's clock-driven work run. */
async function frameWhile(peer: TestPeer, match: (m: Message) => boolean, step: () => void): Promise<Message> {
  const frame = peer.nextFrame(match);
  let done = false;
  void frame.then(() => (done = true)).catch(() => (done = true));
  while (!done) {
    step();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return frame;
}

test('the agent reports teleoperation from drive commands over the wire, again after a reconnect, and its end', async (t) => {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 60_000 });
  const clock = new ManualClock();
  const agent = new Agent({
    hubUrl: peer.url,
    id: 'bot-1',
    clock,
    random: () => 0.5,
    logger: createLogger('silent'),
    collectSystemMetrics: false,
  });
  agent.registerCommandHandler('hal.v1.motor.differential', 'drive', () => ({ ok: true }));
  t.after(async () => {
    await agent.stop();
    await peer.close();
  });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;

  // Commands go over a real socket: wait for each result before moving the clock on.
  const started = peer.nextFrame(isEvent('teleoperation.started'));
  for (let i = 1; i <= 15; i++) {
    const id = `c${i}`;
    const result = peer.nextFrame((m) => m.type === 'result' && m.payload.id === id);
    peer.send('bot-1', 'command', {
      id,
      capability: 'hal.v1.motor.differential',
      command: 'drive',
      args: { left: 0.1, right: 0.1 },
    });
    await result;
    clock.advance(100);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const first = (await started) as MessageOf<'event'>;
  assert.deepEqual(first.payload.data, {
    since: first.payload.data?.['since'],
    indicators: ['command_rate'],
    streams: [],
  });

  // The hub forgets sessions of devices that go offline: the agent reports it again.
  const again = peer.nextFrame(isEvent('teleoperation.started'));
  const reconnected = nextState(agent, 'Connected');
  const reconnecting = nextState(agent, 'Reconnecting');
  peer.drop('bot-1');
  clock.advance((await reconnecting).delayMs);
  await reconnected;
  assert.deepEqual(((await again) as MessageOf<'event'>).payload.data, first.payload.data);

  const stopped = (await frameWhile(peer, isEvent('teleoperation.stopped'), () =>
    clock.advance(500),
  )) as MessageOf<'event'>;
  assert.equal(stopped.payload.data?.['since'], first.payload.data?.['since']);
  assert.equal(typeof stopped.payload.data?.['durationMs'], 'number');
});

test('custom indicators name the operator; shipLogs sends the agent’s own warnings as device logs', async (t) => {
  const peer = await TestPeer.start({ heartbeatIntervalMs: 60_000 });
  const clock = new ManualClock();
  const pedal: TeleoperationIndicator & { reading: IndicatorReading } = {
    name: 'dead_man_switch',
    polled: true,
    reading: { active: false },
    read() {
      return this.reading;
    },
  };
  const agent = new Agent({
    hubUrl: peer.url,
    id: 'bot-2',
    clock,
    logger: createLogger('silent'),
    collectSystemMetrics: false,
    shipLogs: 'warn',
    teleoperation: { commandRate: false, indicators: [pedal], startAfterMs: 0 },
  });
  t.after(async () => {
    await agent.stop();
    await peer.close();
  });
  const connected = nextState(agent, 'Connected');
  agent.start();
  await connected;

  pedal.reading = { active: true, operator: 'ana', streams: ['pedal'] };
  const started = (await frameWhile(peer, isEvent('teleoperation.started'), () =>
    clock.advance(1000),
  )) as MessageOf<'event'>;
  assert.deepEqual(
    { ...started.payload.data, since: 0 },
    { since: 0, operator: 'ana', indicators: ['dead_man_switch'], streams: ['pedal'] },
  );

  // A frame the agent cannot use makes it warn; the warning is shipped (info lines are not).
  const log = peer.nextFrame((m) => m.type === 'log');
  peer.sendRaw('bot-2', 'not json');
  const shipped = (await log) as MessageOf<'log'>;
  assert.equal(shipped.payload.level, 'warn');
  assert.equal(shipped.payload.message, 'invalid frame from hub');
  assert.equal(shipped.payload.fields?.['device'], undefined, 'the hub knows whose line it is');
  assert.equal(shipped.payload.fields?.['code'], 'bad_json');
});
