import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { DeviceEventTypes, MAX_FRAME_BYTES, type Message, type StoredEvent } from '@flotilla/protocol';
import type { ResultReport } from './agent-gateway.js';
import { AgentCloseCodes, MAX_CONSECUTIVE_ERRORS } from './session.js';
import { eventually, startGatewayHarness, TestDevice, type GatewayHarness } from './testing.js';
import { registerAgentWebSocket } from './ws-agent.js';

async function harness(t: TestContext, heartbeatIntervalMs = 1000): Promise<GatewayHarness> {
  const h = await startGatewayHarness({ heartbeatIntervalMs });
  t.after(() => h.close());
  return h;
}

async function events(h: GatewayHarness, id: string): Promise<StoredEvent[]> {
  await h.registry.settled();
  return h.storage.readEvents({ aggregateId: id, limit: 1000, order: 'asc' });
}

async function counter(h: GatewayHarness, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await h.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

function payload(message: Message): Record<string, unknown> {
  return message.payload as Record<string, unknown>;
}

test('hello registers the device and gets welcome; heartbeat gets ack', async (t) => {
  const h = await harness(t);
  const { device, welcome } = await TestDevice.online(h.url, 'r1', { name: 'Robot 1', type: 'lekiwi', uptime: 3 });
  assert.equal(welcome.device, 'r1');
  const w = payload(welcome);
  assert.equal(w['heartbeatIntervalMs'], 1000);
  assert.equal(w['hubVersion'], '0.1.0-test');
  assert.equal(w['serverTime'], h.clock.now());
  assert.equal(typeof w['sessionId'], 'string');

  const registered = h.registry.get('r1');
  assert.equal(registered?.status.online, true);
  assert.equal(registered?.name, 'Robot 1');
  assert.equal(registered?.status.transport, 'ws');

  const seq = device.send('heartbeat', { uptime: 33 });
  const ack = await device.next('ack');
  assert.deepEqual(ack.payload, { of: 'heartbeat', seq });
  assert.equal(h.registry.get('r1')?.status.uptime, 33);
  assert.deepEqual(
    (await events(h, 'r1')).map((e) => [e.type, e.metadata.correlationId]),
    [
      [DeviceEventTypes.Registered, w['sessionId']],
      [DeviceEventTypes.Connected, w['sessionId']],
    ],
  );
  assert.equal(await counter(h, 'flotilla_messages_total', { type: 'heartbeat', direction: 'in' }), 1);
  assert.equal(await counter(h, 'flotilla_messages_total', { type: 'welcome', direction: 'out' }), 1);
  assert.equal(await counter(h, 'flotilla_ws_connections', { transport: 'ws' }), 1);
});

test('telemetry, log, event and result frames reach the registry, the bus and the result hook', async (t) => {
  const h = await harness(t);
  const got: Record<string, unknown[]> = {};
  h.bus.subscribe('flotilla.r1.>', (subject, data) => (got[subject] ??= []).push(data));
  const results: ResultReport[] = [];
  h.gateway.on('result', (r) => results.push(r));
  const { device } = await TestDevice.online(h.url, 'r1');

  device.send('telemetry', {
    metrics: { battery: 80, 'system.cpu': 12.5, 'system.disk': 40 },
    samples: { pose: { x: 1 } },
  });
  device.send('log', { level: 'warn', message: 'wheel slip', fields: { wheel: 'left' } });
  device.send('event', { type: 'teleoperation.started', data: { operator: 'ana' } });
  device.send('result', { id: 'cmd-1', status: 'succeeded', result: { ok: true } });
  await eventually(
    () => results.length === 1 && (got['flotilla.r1.event.TeleoperationStarted']?.length ?? 0) === 1,
    'all four frames handled',
  );

  const telemetry = got['flotilla.r1.telemetry']?.[0] as Record<string, unknown>;
  assert.deepEqual(telemetry['metrics'], { battery: 80, 'system.cpu': 12.5, 'system.disk': 40 });
  assert.deepEqual(telemetry['samples'], { pose: { x: 1 } });
  assert.equal(typeof telemetry['ts'], 'number');
  assert.deepEqual(h.registry.get('r1')?.resources, { cpu: 12.5, disk: 40 });
  const log = got['flotilla.r1.log']?.[0] as Record<string, unknown>;
  assert.equal(log['message'], 'wheel slip');
  assert.equal(log['level'], 'warn');
  assert.deepEqual(log['fields'], { wheel: 'left' });
  const reported = got['flotilla.r1.event.TeleoperationStarted']?.[0] as StoredEvent;
  assert.deepEqual(reported.data, { operator: 'ana', indicators: [], streams: [] });
  assert.equal(reported.metadata.actor, 'device:r1');
  assert.equal(h.registry.get('r1')?.teleoperation.operator, 'ana');
  assert.equal(results[0]?.device, 'r1');
  assert.deepEqual(results[0]?.result, { id: 'cmd-1', status: 'succeeded', result: { ok: true } });
  assert.equal(device.received.filter((m) => m.type === 'error').length, 0);
});

test('socket close marks the device offline at once with DeviceDisconnected', async (t) => {
  const h = await harness(t);
  const offline = new Promise<void>((resolve) =>
    h.bus.subscribe('flotilla.r1.event.DeviceDisconnected', () => resolve()),
  );
  const { device } = await TestDevice.online(h.url, 'r1');
  await device.close();
  await offline;
  assert.equal(h.registry.get('r1')?.status.online, false);
  const last = (await events(h, 'r1')).at(-1);
  assert.equal(last?.data['reason'], 'socket_closed');
  assert.equal(last?.metadata.actor, 'device:r1');
  await eventually(() => h.gateway.connectionCount === 0, 'connection released');
});

test('presence: offline after exactly 3 silent intervals, and the stale socket is dropped', async (t) => {
  const h = await harness(t, 1000);
  const { device } = await TestDevice.online(h.url, 'r1');
  const { device: chatty } = await TestDevice.online(h.url, 'r2');

  h.clock.advance(2000);
  chatty.send('heartbeat', {});
  await chatty.next('ack');
  h.clock.advance(999);
  assert.equal(h.registry.get('r1')?.status.online, true, '1 ms short of 3 intervals: still online');
  h.clock.advance(1 + h.gateway.presence.sweepEveryMs);
  assert.equal((await device.closed).code, 1006, 'dropped without a handshake');
  await eventually(() => h.registry.get('r1')?.status.online === false, 'r1 offline');
  const last = (await events(h, 'r1')).at(-1);
  assert.deepEqual(
    [last?.type, last?.data['reason'], last?.metadata.actor],
    [DeviceEventTypes.Disconnected, 'heartbeat_timeout', 'system'],
  );
  assert.equal(h.registry.get('r2')?.status.online, true, 'a device that spoke within the window stays');
  assert.equal(
    (await events(h, 'r1')).filter((e) => e.type === DeviceEventTypes.Disconnected).length,
    1,
    'the close that follows writes nothing more',
  );
});

test('a duplicate connection replaces the older one without a DeviceDisconnected', async (t) => {
  const h = await harness(t);
  const { device: older, welcome: first } = await TestDevice.online(h.url, 'r1');
  const { device: newer, welcome: second } = await TestDevice.online(h.url, 'r1');
  const error = await older.next('error');
  assert.equal(payload(error)['code'], 'replaced');
  assert.equal((await older.closed).code, AgentCloseCodes.REPLACED);
  await eventually(() => h.gateway.connectionCount === 1, 'older connection released');

  const log = await events(h, 'r1');
  assert.deepEqual(
    log.map((e) => e.type),
    [DeviceEventTypes.Registered, DeviceEventTypes.Connected, DeviceEventTypes.Connected],
  );
  assert.deepEqual(log[2]?.data, {
    sessionId: payload(second)['sessionId'],
    transport: 'ws',
    replacedSessionId: payload(first)['sessionId'],
  });
  assert.equal(h.registry.get('r1')?.status.online, true);

  newer.send('heartbeat', {});
  await newer.next('ack');
  await newer.close();
  await eventually(() => h.registry.get('r1')?.status.online === false, 'offline after the newer one closes');
});

test('decommission closes the device socket', async (t) => {
  const h = await harness(t);
  const { device } = await TestDevice.online(h.url, 'r1');
  await h.registry.decommission('r1', { actor: 'user:ana', correlationId: null, causationId: null });
  assert.equal((await device.closed).code, AgentCloseCodes.DECOMMISSIONED);
  await eventually(() => h.gateway.connectionCount === 0, 'connection released');
  assert.deepEqual((await events(h, 'r1')).map((e) => e.type).slice(-2), [
    DeviceEventTypes.Disconnected,
    DeviceEventTypes.Decommissioned,
  ]);
  assert.equal(h.registry.get('r1'), undefined);
});

test('malformed frames get error frames and are counted; others are undisturbed', async (t) => {
  const h = await harness(t);
  const { device: bystander } = await TestDevice.online(h.url, 'calm');
  const bad = await TestDevice.connect(h.url, 'bad');

  const expectError = async (code: string, ref?: { type?: string; seq?: number }): Promise<void> => {
    const error = await bad.next('error');
    assert.equal(payload(error)['code'], code);
    assert.equal(typeof payload(error)['message'], 'string');
    if (ref) assert.deepEqual(payload(error)['ref'], ref);
  };

  const hbSeq = bad.send('heartbeat', {});
  await expectError('not_registered', { type: 'heartbeat', seq: hbSeq });

  bad.sendRaw('{not json');
  await expectError('bad_json');
  bad.send('hello', {});
  await bad.next('welcome');
  bad.sendRaw(
    JSON.stringify({ v: 1, type: 'telemetry', device: 'bad', seq: 7, ts: 1, payload: { metrics: { x: 'high' } } }),
  );
  await expectError('bad_frame', { type: 'telemetry', seq: 7 });
  bad.sendRaw(JSON.stringify({ v: 1, type: 'selfie', device: 'bad', seq: 8, ts: 1, payload: {} }));
  await expectError('unknown_type', { type: 'selfie', seq: 8 });
  const cmdSeq = bad.send('command', { id: 'c', capability: 'x', command: 'y', args: {} });
  await expectError('wrong_direction', { type: 'command', seq: cmdSeq });
  const mismatchSeq = bad.send('heartbeat', {}, 'calm');
  await expectError('device_mismatch', { type: 'heartbeat', seq: mismatchSeq });
  bad.send('hello', {});
  await expectError('bad_frame');
  bad.sendRaw(JSON.stringify({ v: 2, type: 'heartbeat', device: 'bad', seq: 9, ts: 1, payload: {} }));
  await expectError('unsupported_version');

  // The session still works after all that.
  bad.send('heartbeat', {});
  await bad.next('ack');
  assert.equal(h.registry.get('calm')?.status.online, true);
  assert.equal(h.registry.get('bad')?.status.online, true);

  // Over the transport's limit: refused by ws itself while reading the frame header.
  bad.sendRaw(Buffer.alloc(10 * 1024 * 1024, 0x20));
  assert.equal((await bad.closed).code, 1009);
  await eventually(() => h.registry.get('bad')?.status.online === false, 'oversized sender offline');

  for (const [code, n] of Object.entries({
    not_registered: 1,
    bad_json: 1,
    bad_frame: 2,
    unknown_type: 1,
    wrong_direction: 1,
    device_mismatch: 1,
    unsupported_version: 1,
    frame_too_large: 1,
  })) {
    assert.equal(await counter(h, 'flotilla_frame_errors_total', { code }), n, code);
  }

  bystander.send('heartbeat', {});
  await bystander.next('ack');
  assert.equal(bystander.received.filter((m) => m.type === 'error').length, 0);
  assert.equal(h.registry.get('calm')?.status.online, true);
});

test('a frame of exactly MAX_FRAME_BYTES passes the transport and is judged by the protocol', async (t) => {
  const h = await harness(t);
  const { device } = await TestDevice.online(h.url, 'r1');
  const head = JSON.stringify({
    v: 1,
    type: 'log',
    device: 'r1',
    seq: 1,
    ts: 1,
    payload: { level: 'info', message: '' },
  });
  const frame = head.replace('"message":""', `"message":"${'x'.repeat(MAX_FRAME_BYTES - head.length)}"`);
  assert.equal(Buffer.byteLength(frame), MAX_FRAME_BYTES);
  device.sendRaw(frame);
  const error = await device.next('error');
  assert.equal(payload(error)['code'], 'bad_frame', 'message longer than 16 KiB');
  device.send('heartbeat', {});
  await device.next('ack');
});

test('100 refused frames in a row close the connection with 1008', async (t) => {
  const h = await harness(t);
  const bad = await TestDevice.connect(h.url, 'bad');
  for (let i = 0; i < MAX_CONSECUTIVE_ERRORS + 5; i++) bad.sendRaw('nope');
  const closed = await bad.closed;
  assert.equal(closed.code, AgentCloseCodes.POLICY_VIOLATION);
  assert.equal(bad.received.filter((m) => m.type === 'error').length, MAX_CONSECUTIVE_ERRORS);
});

test('gateway close ends every session with hub_shutdown', async (t) => {
  const h = await harness(t);
  const { device: a } = await TestDevice.online(h.url, 'a');
  const { device: b } = await TestDevice.online(h.url, 'b');
  await h.gateway.close();
  assert.equal((await a.closed).code, AgentCloseCodes.GOING_AWAY);
  assert.equal((await b.closed).code, AgentCloseCodes.GOING_AWAY);
  assert.equal(h.registry.onlineCount, 0);
  for (const id of ['a', 'b']) assert.equal((await events(h, id)).at(-1)?.data['reason'], 'hub_shutdown');
});

test('registerAgentWebSocket refuses an app without the frame limit', async () => {
  const h = await startGatewayHarness();
  try {
    const bare = Fastify();
    assert.throws(() => registerAgentWebSocket(bare, { gateway: h.gateway }), /register @fastify\/websocket first/);
    await bare.register(fastifyWebsocket);
    assert.throws(() => registerAgentWebSocket(bare, { gateway: h.gateway }), /maxPayload/);
    await bare.close();
  } finally {
    await h.close();
  }
});
