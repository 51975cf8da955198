import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@flotilla/protocol';
import WS from 'ws';
import { LiveClient, type LiveEvent, type LiveMessage } from './live.js';
import { FlotillaError } from './errors.js';
import { TestPeer } from './testing/peer.js';

let peer: TestPeer;
before(async () => {
  peer = await new TestPeer().start();
});
after(() => peer.stop());
beforeEach(() => peer.reset());

/** Collects what a handler receives; `next()` waits (bounded) for the next one. */
function inbox<T>(): { push: (v: T) => void; next: () => Promise<T>; items: T[] } {
  const items: T[] = [];
  let read = 0;
  const waiters: (() => void)[] = [];
  return {
    items,
    push(v) {
      items.push(v);
      waiters.splice(0).forEach((w) => w());
    },
    async next() {
      const deadline = Date.now() + 5000;
      while (items.length <= read) {
        if (Date.now() > deadline) throw new Error('nothing arrived in time');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return items[read++] as T;
    },
  };
}

function watch(live: LiveClient): { events: LiveEvent[]; until: (type: LiveEvent['type']) => Promise<LiveEvent> } {
  const box = inbox<LiveEvent>();
  live.on(box.push);
  return {
    events: box.items,
    async until(type) {
      for (;;) {
        const e = await box.next();
        if (e.type === type) return e;
      }
    },
  };
}

test(
  'subscribe sends the patterns and throttle; matching messages reach the handler',
  { timeout: 10_000 },
  async () => {
    const live = new LiveClient({ url: peer.url, clock: new ManualClock(), pingIntervalMs: 0 });
    const box = inbox<LiveMessage>();
    live.subscribe('flotilla.*.status', box.push, { rate: 2, strategy: 'latest' });
    const conn = await peer.nextConnection();
    assert.deepEqual(await conn.nextFrame(), {
      type: 'subscribe',
      id: 's1',
      subjects: ['flotilla.*.status'],
      throttle: { rate: 2, strategy: 'latest' },
    });
    assert.equal(live.state, 'open');
    peer.publish('flotilla.r1.telemetry', { nope: true });
    peer.publish('flotilla.r1.status', { id: 'r1' });
    assert.deepEqual(await box.next(), { subject: 'flotilla.r1.status', data: { id: 'r1' } });
    assert.equal(box.items.length, 1, 'the telemetry message matched no subscription');
    live.close();
    assert.equal(live.state, 'closed');
  },
);

test(
  'overlapping subscriptions each get the message; unsubscribe releases only unused patterns',
  { timeout: 10_000 },
  async () => {
    const live = new LiveClient({ url: peer.url, pingIntervalMs: 0 });
    const a = inbox<LiveMessage>();
    const b = inbox<LiveMessage>();
    const offA = live.subscribe(['flotilla.*.status'], a.push);
    const conn = await peer.nextConnection();
    await conn.nextFrame();
    const offB = live.subscribe(['flotilla.*.status', 'flotilla.r1.event.>'], b.push);
    assert.deepEqual(await conn.nextFrame(), {
      type: 'subscribe',
      id: 's2',
      subjects: ['flotilla.*.status', 'flotilla.r1.event.>'],
    });
    peer.publish('flotilla.r2.status', 1);
    assert.equal((await a.next()).data, 1);
    assert.equal((await b.next()).data, 1);
    offB();
    assert.deepEqual(await conn.nextFrame(), { type: 'unsubscribe', id: 's2', subjects: ['flotilla.r1.event.>'] });
    offA();
    assert.deepEqual(await conn.nextFrame(), { type: 'unsubscribe', id: 's1', subjects: ['flotilla.*.status'] });
    offA();
    live.close();
  },
);

test('after a lost connection it reconnects with backoff and subscribes again', { timeout: 10_000 }, async () => {
  const clock = new ManualClock();
  const live = new LiveClient({
    url: peer.url,
    clock,
    random: () => 0,
    backoff: { initialMs: 100 },
    pingIntervalMs: 0,
  });
  const seen = watch(live);
  const box = inbox<LiveMessage>();
  live.subscribe('flotilla.*.status', box.push);
  live.subscribe('flotilla.r9.event.>', box.push, { rate: 1, strategy: 'sample' });
  const first = await peer.nextConnection();
  const before = [await first.nextFrame(), await first.nextFrame()];
  first.socket.terminate();
  const lost = await seen.until('disconnected');
  assert.equal(lost.type === 'disconnected' && lost.retryInMs, 50);
  assert.equal(live.state, 'reconnecting');
  clock.advance(49);
  assert.equal(seen.events.filter((e) => e.type === 'connecting').length, 1, 'no retry before the delay');
  clock.advance(1);
  const second = await peer.nextConnection();
  assert.deepEqual([await second.nextFrame(), await second.nextFrame()], before);
  peer.publish('flotilla.r9.event.Docked', { ok: true });
  assert.deepEqual(await box.next(), { subject: 'flotilla.r9.event.Docked', data: { ok: true } });
  live.close();
});

test(
  'a token function is asked before every connection; when it throws, the attempt is retried',
  { timeout: 10_000 },
  async () => {
    const clock = new ManualClock();
    const tokens = ['jwt-1', new Error('the login has expired'), 'jwt-2'];
    const live = new LiveClient({
      url: peer.url,
      clock,
      random: () => 0,
      backoff: { initialMs: 100 },
      pingIntervalMs: 0,
      token: () => {
        const next = tokens.shift();
        if (next instanceof Error) throw next;
        return Promise.resolve(next);
      },
    });
    const seen = watch(live);
    live.subscribe('flotilla.*.status', () => undefined);
    const first = await peer.nextConnection();
    assert.equal(first.url, '/ws/client?access_token=jwt-1');
    first.socket.terminate();
    await seen.until('disconnected');
    clock.advance(50);
    const refused = await seen.until('disconnected');
    assert.equal(refused.type === 'disconnected' && refused.reason, 'no token: the login has expired');
    clock.advance(100);
    const second = await peer.nextConnection();
    assert.equal(second.url, '/ws/client?access_token=jwt-2');
    assert.ok(!JSON.stringify(seen.events).includes('jwt-'), 'state events never carry a token');
    live.close();
  },
);

test('failed connection attempts back off further each time', { timeout: 10_000 }, async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const clock = new ManualClock();
  const live = new LiveClient({
    url: `http://127.0.0.1:${port}`,
    clock,
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 250 },
  });
  const seen = watch(live);
  live.subscribe('flotilla.*.status', () => {});
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const e = await seen.until('disconnected');
    if (e.type === 'disconnected') delays.push(e.retryInMs);
    clock.advance(e.type === 'disconnected' ? e.retryInMs : 0);
  }
  assert.deepEqual(delays, [100, 200, 250]);
  live.close();
  assert.equal(clock.pending, 0, 'close cancels the pending retry');
});

test('a subscription the hub refuses makes its stream throw with the hub code', { timeout: 10_000 }, async () => {
  const live = new LiveClient({ url: peer.url, pingIntervalMs: 0 });
  const seen = watch(live);
  const stream = live.stream(['flotilla..bad']);
  const err = await stream.next().catch((e: unknown) => e);
  assert.ok(err instanceof FlotillaError);
  assert.equal(err.code, 'bad_subject');
  const reported = await seen.until('error');
  assert.deepEqual(reported.type === 'error' && reported.subjects, ['flotilla..bad']);
  live.close();
});

test(
  'stream yields messages in order; break unsubscribes; close ends the other streams',
  { timeout: 10_000 },
  async () => {
    const live = new LiveClient({ url: peer.url, pingIntervalMs: 0 });
    const events = live.stream('flotilla.*.event.>');
    const conn = await peer.nextConnection();
    await conn.nextFrame();
    for (let i = 1; i <= 3; i++) peer.publish(`flotilla.r1.event.E${i}`, i);
    const got: unknown[] = [];
    for await (const m of events) {
      got.push(m.data);
      if (got.length === 2) break;
    }
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(await conn.nextFrame(), { type: 'unsubscribe', id: 's1', subjects: ['flotilla.*.event.>'] });
    const status = live.stream('flotilla.*.status');
    await conn.nextFrame();
    peer.publish('flotilla.r1.status', 'x');
    assert.equal((await status.next()).value?.data, 'x');
    const pending = status.next();
    live.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.throws(() => live.subscribe('a', () => {}), { code: 'client_closed' });
  },
);

test('a connection that stops answering pings is dropped and retried', { timeout: 10_000 }, async () => {
  const clock = new ManualClock();
  const live = new LiveClient({ url: peer.url, clock, pingIntervalMs: 1000, random: () => 0 });
  const seen = watch(live);
  const box = inbox<LiveMessage>();
  live.subscribe('flotilla.*.status', box.push);
  const conn = await peer.nextConnection();
  await conn.nextFrame();
  clock.advance(1000);
  assert.deepEqual(await conn.nextFrame(), { type: 'ping' });
  // The pong was sent before this message, so once it arrives the client has heard the pong.
  peer.publish('flotilla.r1.status', 1);
  await box.next();
  peer.answerPings = false;
  clock.advance(1000);
  assert.deepEqual(await conn.nextFrame(), { type: 'ping' });
  assert.equal(live.state, 'open', 'one unanswered ping is not yet a dead connection');
  clock.advance(1000);
  const lost = await seen.until('disconnected');
  assert.match(lost.type === 'disconnected' ? lost.reason : '', /no answer from the hub within 1000 ms/);
  live.close();
});

test('the ws package works as the WebSocket implementation', { timeout: 10_000 }, async () => {
  const live = new LiveClient({ url: `${peer.url}/`, WebSocket: WS, pingIntervalMs: 0 });
  const box = inbox<LiveMessage>();
  live.subscribe('flotilla.r5.status', box.push);
  const conn = await peer.nextConnection();
  await conn.nextFrame();
  peer.publish('flotilla.r5.status', { online: true });
  assert.deepEqual(await box.next(), { subject: 'flotilla.r5.status', data: { online: true } });
  live.close();
});

test('a throwing handler is reported and does not stop delivery to the others', { timeout: 10_000 }, async () => {
  const live = new LiveClient({ url: peer.url, pingIntervalMs: 0 });
  const seen = watch(live);
  const box = inbox<LiveMessage>();
  live.subscribe('flotilla.*.status', () => {
    throw new Error('boom');
  });
  live.subscribe('flotilla.*.status', box.push);
  const conn = await peer.nextConnection();
  await conn.nextFrame();
  await conn.nextFrame();
  peer.publish('flotilla.r1.status', 7);
  assert.equal((await box.next()).data, 7);
  const e = await seen.until('error');
  assert.deepEqual(e, { type: 'error', code: 'handler_failed', message: 'boom', subjects: ['flotilla.*.status'] });
  live.close();
});
