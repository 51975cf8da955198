import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { ManualClock, systemClock, type Clock } from '@flotilla/protocol';
import { Bus } from '../bus.js';
import { createMetrics, type HubMetrics } from '../metrics.js';
import { registerClientWebSocket, CLIENT_WS_PATH } from './endpoint.js';
import { TestSocket } from './test-client.js';

/**
 * `/ws/client` over real sockets on 127.0.0.1, fed by the real Bus. The registry's own
 * publications (status, events) are covered end to end in hub.test.ts.
 */
async function serve(
  t: TestContext,
  options: { clock?: Clock; maxSubscriptions?: number; maxBufferedBytes?: number; keepaliveMs?: number } = {},
): Promise<{ bus: Bus; url: string; metrics: HubMetrics }> {
  const bus = new Bus();
  const metrics = createMetrics({ defaultMetrics: false });
  const app = Fastify();
  await app.register(fastifyWebsocket);
  // Stands in for the auth plugin (tested with the whole hub in hub.test.ts): every caller here
  // is a viewer, which may subscribe to everything.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    request.principal = { actor: 'user:viewer', role: 'viewer', userId: 'u1', username: 'viewer' };
  });
  registerClientWebSocket(app, { bus, metrics, clock: options.clock ?? systemClock, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { bus, metrics, url: `ws://127.0.0.1:${address.port}${CLIENT_WS_PATH}` };
}

async function client(t: TestContext, url: string): Promise<TestSocket> {
  const c = await TestSocket.connect(url);
  t.after(() => c.close());
  return c;
}

async function metricValue(metrics: HubMetrics, name: string): Promise<number> {
  const json = await metrics.registry.getSingleMetric(name)?.get();
  return json?.values.reduce((sum, v) => sum + v.value, 0) ?? NaN;
}

test('subscribe with wildcards, receive matching messages, unsubscribe', async (t) => {
  const { bus, url } = await serve(t);
  const c = await client(t, url);
  c.send({ type: 'subscribe', id: 's1', subjects: ['flotilla.*.status', 'flotilla.r1.>'] });
  assert.deepEqual(await c.next(), { type: 'subscribed', id: 's1', subjects: ['flotilla.*.status', 'flotilla.r1.>'] });

  bus.publish('flotilla.r2.status', { id: 'r2', online: true });
  bus.publish('flotilla.r2.telemetry', { ts: 1, metrics: { x: 1 } }); // matches neither
  bus.publish('flotilla.r1.event.DeviceConnected', { position: 7 });
  // Matches both patterns: delivered once.
  bus.publish('flotilla.r1.status', { id: 'r1', online: false });
  c.send({ type: 'ping', id: 'p' });
  await c.next((f) => f['type'] === 'pong');
  assert.deepEqual(c.messages(), [
    { type: 'message', subject: 'flotilla.r2.status', data: { id: 'r2', online: true } },
    { type: 'message', subject: 'flotilla.r1.event.DeviceConnected', data: { position: 7 } },
    { type: 'message', subject: 'flotilla.r1.status', data: { id: 'r1', online: false } },
  ]);

  c.send({ type: 'unsubscribe', id: 'u1', subjects: ['flotilla.*.status', 'flotilla.r1.>'] });
  assert.deepEqual(await c.next((f) => f['type'] === 'unsubscribed'), {
    type: 'unsubscribed',
    id: 'u1',
    subjects: ['flotilla.*.status', 'flotilla.r1.>'],
  });
  assert.equal(bus.subscriptionCount, 0);
  bus.publish('flotilla.r2.status', { id: 'r2' });
  c.send({ type: 'ping', id: 'p2' });
  await c.next((f) => f['type'] === 'pong' && f['id'] === 'p2');
  assert.equal(c.messages().length, 3);
});

test('bad frames get error frames and the connection stays usable', async (t) => {
  const { bus, url } = await serve(t);
  const c = await client(t, url);
  const cases: Array<[unknown, string]> = [
    ['{not json', 'bad_json'],
    [{ type: 'subscribe' }, 'bad_frame'],
    [{ type: 'dance' }, 'bad_frame'],
    [{ type: 'subscribe', subjects: [] }, 'bad_frame'],
    [{ type: 'subscribe', subjects: ['flotilla.>.status'] }, 'bad_subject'],
    [{ type: 'subscribe', subjects: ['flotilla..status'] }, 'bad_subject'],
    [{ type: 'subscribe', subjects: ['a'], throttle: { rate: 0, strategy: 'sample' } }, 'bad_frame'],
    [{ type: 'subscribe', subjects: ['a'], throttle: { rate: 1, strategy: 'fastest' } }, 'bad_frame'],
    ['x'.repeat(70 * 1024), 'frame_too_large'],
  ];
  for (const [frame, code] of cases) {
    c.send(frame);
    const reply = await c.next<{ type: string; error: { code: string; message: string } }>();
    assert.equal(reply.type, 'error', JSON.stringify(frame).slice(0, 80));
    assert.equal(reply.error.code, code, `${JSON.stringify(frame).slice(0, 80)} → ${reply.error.message}`);
    assert.ok(reply.error.message.length > 0);
  }
  // A subscribe with one bad pattern subscribed to none of them.
  c.send({ type: 'subscribe', id: 'mixed', subjects: ['flotilla.ok.status', 'bad pattern'] });
  const mixed = await c.next<{ type: string; id: string; error: { code: string } }>();
  assert.equal(mixed.error.code, 'bad_subject');
  assert.equal(mixed.id, 'mixed');
  assert.equal(bus.subscriptionCount, 0);

  c.send({ type: 'subscribe', subjects: ['flotilla.ok.status'] });
  await c.next((f) => f['type'] === 'subscribed');
  bus.publish('flotilla.ok.status', { fine: true });
  assert.deepEqual(await c.next((f) => f['type'] === 'message'), {
    type: 'message',
    subject: 'flotilla.ok.status',
    data: { fine: true },
  });
});

test('a connection holds a bounded number of subscriptions', async (t) => {
  const { bus, url } = await serve(t, { maxSubscriptions: 3 });
  const c = await client(t, url);
  c.send({ type: 'subscribe', subjects: ['a.1', 'a.2'] });
  await c.next((f) => f['type'] === 'subscribed');
  // Re-subscribing a held pattern does not count twice.
  c.send({ type: 'subscribe', subjects: ['a.2', 'a.3'] });
  await c.next((f) => f['type'] === 'subscribed');
  c.send({ type: 'subscribe', id: 'over', subjects: ['a.4'] });
  const err = await c.next<{ type: string; id: string; error: { code: string } }>();
  assert.deepEqual([err.type, err.id, err.error.code], ['error', 'over', 'too_many_subscriptions']);
  assert.equal(bus.subscriptionCount, 3);
  // Each connection has its own allowance, and closing releases its subscriptions.
  const other = await client(t, url);
  other.send({ type: 'subscribe', subjects: ['b.1', 'b.2', 'b.3'] });
  await other.next((f) => f['type'] === 'subscribed');
  assert.equal(bus.subscriptionCount, 6);
  await other.close();
  await waitFor(() => bus.subscriptionCount === 3);
});

test('throttle strategies run on the injected clock', async (t) => {
  const clock = new ManualClock(0);
  const { bus, url } = await serve(t, { clock });
  const c = await client(t, url);
  c.send({ type: 'subscribe', subjects: ['flotilla.*.telemetry'], throttle: { rate: 1, strategy: 'aggregate' } });
  c.send({ type: 'subscribe', subjects: ['flotilla.*.status'], throttle: { rate: 1, strategy: 'latest' } });
  c.send({ type: 'subscribe', subjects: ['flotilla.*.log'], throttle: { rate: 1, strategy: 'sample' } });
  await c.next((f) => f['type'] === 'subscribed');
  await c.next((f) => f['type'] === 'subscribed');
  await c.next((f) => f['type'] === 'subscribed');

  for (let i = 1; i <= 4; i++) {
    bus.publish('flotilla.r1.telemetry', { ts: i, metrics: { battery: 100 - i } });
    bus.publish('flotilla.r1.status', { n: i });
    bus.publish('flotilla.r1.log', { n: i });
    clock.advance(200);
  }
  clock.advance(200); // the telemetry window (1 s, from t=0) closes; the held status goes out
  const ping = (id: string) => {
    c.send({ type: 'ping', id });
    return c.next((f) => f['type'] === 'pong' && f['id'] === id);
  };
  await ping('a');
  const bySubject = (s: string) =>
    c
      .messages()
      .filter((m) => m.subject === s)
      .map((m) => m.data);
  assert.deepEqual(bySubject('flotilla.r1.log'), [{ n: 1 }]);
  assert.deepEqual(bySubject('flotilla.r1.status'), [{ n: 1 }, { n: 4 }]);
  assert.deepEqual(bySubject('flotilla.r1.telemetry'), [
    {
      ts: 4,
      window: { from: 0, to: 1000, count: 4 },
      metrics: { battery: { min: 96, max: 99, avg: 97.5, last: 96, count: 4 } },
    },
  ]);
});

test('a client that does not read is dropped from, not buffered for, and told so when it catches up', async (t) => {
  const { bus, url, metrics } = await serve(t, { maxBufferedBytes: 64 * 1024 });
  const slow = await client(t, url);
  const fast = await client(t, url);
  for (const c of [slow, fast]) {
    c.send({ type: 'subscribe', subjects: ['flotilla.*.telemetry'] });
    await c.next((f) => f['type'] === 'subscribed');
  }
  // Stop reading on the slow client: the kernel buffers fill, then the hub's send buffer.
  const rawSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  rawSocket.pause();
  const blob = 'x'.repeat(16 * 1024);
  const published = 2000;
  // Published in small batches, each read by the fast client before the next: a reader that
  // keeps up is never dropped from, whatever another client does.
  for (let i = 0; i < published; i += 4) {
    for (let j = i; j < i + 4; j++) bus.publish('flotilla.r1.telemetry', { ts: j, metrics: {}, samples: { blob } });
    await fast.next<{ type: string; data: { ts: number } }>((f) => f.type === 'message' && f.data.ts === i + 3);
  }
  assert.equal(fast.messages().length, published);
  const dropped = await metricValue(metrics, 'flotilla_client_dropped_total');
  assert.ok(dropped > 0, 'messages to the slow client were dropped');
  assert.ok(dropped < published, 'what fit in the buffers was sent');

  // Once it has read everything that was sent, the next message goes out, after the notice.
  rawSocket.resume();
  await waitFor(() => slow.messages().length === published - dropped, 20_000);
  bus.publish('flotilla.r1.telemetry', { ts: -1, metrics: {} });
  const notice = await slow.next<{ type: string; error: { code: string; message: string } }>(
    (f) => f['type'] === 'error',
    20_000,
  );
  assert.equal(notice.error.code, 'slow_consumer');
  assert.match(notice.error.message, new RegExp(`^${dropped} message`));
  const last = await slow.next<{ type: string; data: { ts: number } }>(
    (f) => f.type === 'message' && f.data.ts === -1,
    20_000,
  );
  assert.equal(last.data.ts, -1);
  assert.equal(slow.messages().length, published - dropped + 1);
});

test('connections that stop answering pings are terminated; live ones stay', async (t) => {
  const clock = new ManualClock(0);
  const { bus, url, metrics } = await serve(t, { clock, keepaliveMs: 1000 });
  const live = await client(t, url);
  const dead = await client(t, url);
  for (const c of [live, dead]) {
    c.send({ type: 'subscribe', subjects: ['flotilla.>'] });
    await c.next((f) => f['type'] === 'subscribed');
  }
  assert.equal(await metricValue(metrics, 'flotilla_client_connections'), 2);
  // A client whose host vanished: nothing it receives is read, so no pong comes back.
  const rawSocket = (dead.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  rawSocket.pause();

  const pinged = new Promise((resolve) => live.ws.once('ping', resolve));
  clock.advance(1000);
  await pinged;
  // The live client answered the ping (ws does so on receipt) before this round trip completes.
  live.send({ type: 'ping', id: 'after-ws-ping' });
  await live.next((f) => f['type'] === 'pong');

  clock.advance(1000);
  await waitFor(() => bus.subscriptionCount === 1);
  assert.equal(await metricValue(metrics, 'flotilla_client_connections'), 1);
  bus.publish('flotilla.r1.status', { still: 'here' });
  assert.deepEqual((await live.next((f) => f['type'] === 'message'))['data'], { still: 'here' });
  rawSocket.resume();
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
