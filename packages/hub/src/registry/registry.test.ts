import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeviceEventTypes,
  ManualClock,
  parseSelector,
  type Device,
  type HelloPayload,
  type Requirement,
  type StoredEvent,
} from '@flotilla/protocol';
import { Bus } from '../bus.js';
import { createMetrics, EVENT_LOG_SIZE_TTL_MS } from '../metrics.js';
import { openStorage } from '../storage/index.js';
import { createTestTarget, ENGINES } from '../storage/testing.js';
import type { Engine, Storage } from '../storage/types.js';
import { DeviceNotFoundError, LabelLimitError } from './errors.js';
import { fold } from './projection.js';
import { Registry, REGISTRY_SNAPSHOT, type RegistryOptions } from './registry.js';

const api = { actor: 'user:ana', correlationId: 'req-1', causationId: null };

const hello: HelloPayload = {
  name: 'Lekiwi 7',
  type: 'lekiwi',
  labels: { site: 'lab' },
  hardware: { serial: 'LK-7', model: 'lekiwi-v2' },
  network: { hostname: 'lekiwi-7' },
  software: { os: 'linux', agentVersion: '0.1.0' },
  capabilities: [{ name: 'hal.v1.battery' }],
  token: 'never-logged',
  uptime: 12,
  resources: { cpu: 5 },
};

async function storageFor(t: TestContext, engine: Engine = 'sqlite'): Promise<Storage> {
  const target = await createTestTarget(engine);
  const storage = await openStorage(target.options);
  t.after(async () => {
    await storage.close();
    await target.cleanup();
  });
  return storage;
}

async function allEvents(storage: Storage): Promise<StoredEvent[]> {
  return storage.readEvents({ limit: 10_000, order: 'asc' });
}

async function openRegistry(
  t: TestContext,
  storage: Storage,
  options: Partial<RegistryOptions> = {},
): Promise<Registry> {
  const registry = await Registry.open({
    storage,
    bus: new Bus(),
    clock: new ManualClock(),
    snapshotEvery: 1000,
    ...options,
  });
  t.after(() => registry.settled());
  return registry;
}

test('connect registers a new device, then a reconnect writes only what changed', async (t) => {
  const storage = await storageFor(t);
  const bus = new Bus();
  const seen: { subject: string; data: unknown }[] = [];
  bus.subscribe('flotilla.r7.>', (subject, data) => seen.push({ subject, data }));
  const registry = await openRegistry(t, storage, { bus });

  const device = await registry.connect({ id: 'r7', hello, sessionId: 's1', transport: 'ws' });
  assert.equal(device.status.online, true);
  assert.equal(device.status.uptime, 12, 'live field from hello');
  assert.deepEqual(device.resources, { cpu: 5 });
  assert.deepEqual(device.labels, { site: 'lab' });
  assert.deepEqual(
    seen.map((s) => s.subject),
    ['flotilla.r7.event.DeviceRegistered', 'flotilla.r7.event.DeviceConnected', 'flotilla.r7.status'],
  );
  assert.equal(seen[2]?.data, registry.get('r7'));

  let events = await allEvents(storage);
  assert.deepEqual(
    events.map((e) => e.type),
    [DeviceEventTypes.Registered, DeviceEventTypes.Connected],
  );
  assert.deepEqual(events[0]?.metadata, { actor: 'device:r7', correlationId: 's1', causationId: null });
  assert.ok(!JSON.stringify(events).includes('never-logged'), 'the token never reaches the log');

  assert.equal(await registry.disconnect('r7', 's1', 'socket_closed'), true);
  await registry.connect({ id: 'r7', hello, sessionId: 's2', transport: 'ws' });
  events = await allEvents(storage);
  assert.deepEqual(
    events.slice(2).map((e) => e.type),
    [DeviceEventTypes.Disconnected, DeviceEventTypes.Connected],
    'same facts: no DeviceUpdated',
  );

  await registry.connect({
    id: 'r7',
    hello: { ...hello, name: 'Renamed', software: { os: 'linux', agentVersion: '0.2.0' } },
    sessionId: 's3',
    transport: 'ws',
  });
  events = await allEvents(storage);
  const updated = events.at(-2);
  assert.equal(updated?.type, DeviceEventTypes.Updated);
  assert.deepEqual(
    updated?.data,
    { software: { os: 'linux', agentVersion: '0.2.0' } },
    'only the changed fact; the name belongs to operators',
  );
  assert.deepEqual(events.at(-1)?.data, { sessionId: 's3', transport: 'ws', replacedSessionId: 's2' });
  assert.equal(registry.get('r7')?.name, 'Lekiwi 7');
});

test('disconnect only ends the live session', async (t) => {
  const storage = await storageFor(t);
  const registry = await openRegistry(t, storage);
  await registry.connect({ id: 'r1', hello: {}, sessionId: 'old', transport: 'ws' });
  await registry.connect({ id: 'r1', hello: {}, sessionId: 'new', transport: 'ws' });
  assert.equal(await registry.disconnect('r1', 'old', 'socket_closed'), false, 'a replaced session changes nothing');
  assert.equal(registry.get('r1')?.status.online, true);
  assert.equal(await registry.disconnect('r1', 'new', 'heartbeat_timeout'), true);
  assert.equal(await registry.disconnect('r1', 'new', 'socket_closed'), false, 'already ended');
  const last = (await allEvents(storage)).at(-1);
  assert.deepEqual(last?.data, { sessionId: 'new', reason: 'heartbeat_timeout' });
  assert.equal(last?.metadata.actor, 'system');
  assert.equal(registry.onlineCount, 0);
});

test('update renames and patches labels, writes nothing when nothing changes, and refuses unknown devices', async (t) => {
  const storage = await storageFor(t);
  const registry = await openRegistry(t, storage);
  await registry.connect({ id: 'r1', hello: { labels: { a: '1', b: '2' } }, sessionId: 's', transport: 'ws' });
  const before = (await allEvents(storage)).length;

  const device = await registry.update('r1', { name: 'Kitchen', labels: { a: null, c: '3' } }, api);
  assert.equal(device.name, 'Kitchen');
  assert.deepEqual(device.labels, { b: '2', c: '3' });
  const events = await allEvents(storage);
  assert.equal(events.length, before + 1);
  assert.deepEqual(events.at(-1)?.data, { name: 'Kitchen', labels: { a: null, c: '3' } });
  assert.deepEqual(events.at(-1)?.metadata, api);

  assert.equal(
    await registry.update('r1', { name: 'Kitchen', labels: { b: '2', zzz: null } }, api),
    registry.get('r1'),
  );
  assert.equal((await allEvents(storage)).length, before + 1, 'no-op update appends nothing');

  await assert.rejects(
    registry.update('nope', { name: 'x' }, api),
    (err: unknown) => err instanceof DeviceNotFoundError && err.code === 'device_not_found',
  );
  const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, 'v']));
  await assert.rejects(registry.update('r1', { labels: many }, api), LabelLimitError);
});

test('decommission disconnects, removes, publishes and asks transports to close', async (t) => {
  const storage = await storageFor(t);
  const bus = new Bus();
  const statuses: unknown[] = [];
  bus.subscribe('flotilla.*.status', (_s, data) => statuses.push(data));
  const registry = await openRegistry(t, storage, { bus });
  const asked: string[] = [];
  registry.onDisconnectRequest((id, reason) => asked.push(`${id}:${reason}`));
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's', transport: 'ws' });
  await registry.connect({ id: 'r2', hello: {}, sessionId: 's', transport: 'ws' });

  await registry.decommission('r1', api);
  assert.equal(registry.get('r1'), undefined);
  assert.equal(registry.size, 1);
  assert.equal(registry.onlineCount, 1);
  assert.deepEqual(asked, ['r1:decommissioned']);
  assert.deepEqual(statuses.at(-1), { id: 'r1', decommissioned: true });
  const tail = (await allEvents(storage)).slice(-2);
  assert.deepEqual(
    tail.map((e) => [e.type, e.data]),
    [
      [DeviceEventTypes.Disconnected, { sessionId: 's', reason: 'decommissioned' }],
      [DeviceEventTypes.Decommissioned, { name: 'r1' }],
    ],
  );
  await assert.rejects(registry.decommission('r1', api), DeviceNotFoundError);
  assert.equal(
    await registry.disconnect('r1', 's', 'socket_closed'),
    false,
    'the transport closing afterwards writes nothing',
  );
});

test('report appends DeviceReported with the device as actor', async (t) => {
  const storage = await storageFor(t);
  const registry = await openRegistry(t, storage);
  assert.equal(await registry.report('ghost', 's', 'docked', {}), undefined);
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's', transport: 'ws' });
  const stored = await registry.report('r1', 's', 'docked', { station: 'd1' });
  assert.equal(stored?.type, DeviceEventTypes.Reported);
  assert.deepEqual(stored?.data, { type: 'docked', data: { station: 'd1' } });
  assert.equal(stored?.metadata.actor, 'device:r1');
});

test('teleoperation reports become TeleoperationStarted and TeleoperationStopped, with only their own fields', async (t) => {
  const storage = await storageFor(t);
  const registry = await openRegistry(t, storage);
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's', transport: 'ws' });
  assert.equal(await registry.report('r1', 's', 'teleoperation.stopped', {}), undefined, 'not teleoperated: no event');
  const started = await registry.report('r1', 's', 'teleoperation.started', {
    operator: 'ana',
    indicators: ['command_rate', 7],
    secret: 'x',
  });
  assert.equal(started?.type, DeviceEventTypes.TeleoperationStarted);
  assert.deepEqual(started?.data, { operator: 'ana', indicators: ['command_rate'], streams: [] });
  assert.equal(registry.get('r1')?.teleoperation.operator, 'ana');
  assert.deepEqual(
    registry.query({ teleoperated: true, limit: 10 }).items.map((d) => d.id),
    ['r1'],
  );
  const again = { operator: 'ana', indicators: ['command_rate'], since: 5 };
  assert.ok(await registry.report('r1', 's', 'teleoperation.started', again), 'a new session');
  assert.equal(await registry.report('r1', 's', 'teleoperation.started', again), undefined, 'reported twice');
  const stopped = await registry.report('r1', 's', 'teleoperation.stopped', {});
  assert.equal(stopped?.type, DeviceEventTypes.TeleoperationStopped);
  assert.equal(registry.get('r1')?.teleoperation.active, false);
  assert.deepEqual(registry.query({ teleoperated: true, limit: 10 }).items, []);
});

test('live fields change in memory only, without events', async (t) => {
  const storage = await storageFor(t);
  const clock = new ManualClock();
  const registry = await openRegistry(t, storage, { clock });
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's', transport: 'ws' });
  const before = (await allEvents(storage)).length;
  registry.touch('r1', clock.now() + 500, 99);
  registry.updateResources('r1', { 'system.cpu': 40, 'system.temperature': 61.5, 'system.uptime': 100, battery: 80 });
  const device = registry.get('r1');
  assert.equal(device?.status.lastSeen, clock.now() + 500);
  assert.equal(device?.status.uptime, 100);
  assert.deepEqual(device?.resources, { cpu: 40, temperature: 61.5 });
  assert.equal((await allEvents(storage)).length, before);
  registry.touch('ghost', 1);
  registry.updateResources('ghost', { 'system.cpu': 1 });
});

test('query filters and pages in id order', async (t) => {
  const storage = await storageFor(t);
  const registry = await openRegistry(t, storage);
  const ids = ['d05', 'd01', 'd10', 'd03', 'd02', 'd04', 'd07', 'd06', 'd09', 'd08'];
  await Promise.all(
    ids.map((id, i) =>
      registry.connect({
        id,
        hello: {
          type: i % 2 ? 'xle' : 'lekiwi',
          labels: { zone: i < 5 ? 'a' : 'b' },
          network: { hostname: `Host-${id}` },
        },
        sessionId: 's',
        transport: 'ws',
      }),
    ),
  );
  await registry.disconnect('d03', 's', 'socket_closed');
  assert.deepEqual(
    registry.list().map((d) => d.id),
    [...ids].sort(),
  );

  const pages: string[][] = [];
  let afterId: string | undefined;
  do {
    const page = registry.query({ limit: 3, afterId });
    pages.push(page.items.map((d) => d.id));
    afterId = page.nextId ?? undefined;
  } while (afterId);
  assert.deepEqual(pages, [['d01', 'd02', 'd03'], ['d04', 'd05', 'd06'], ['d07', 'd08', 'd09'], ['d10']]);
  assert.equal(registry.query({ limit: 10 }).nextId, null, 'exactly one full page: no next');

  const sel = (s: string): Requirement[] => {
    const parsed = parseSelector(s);
    assert.ok(parsed.ok);
    return parsed.requirements;
  };
  const idsOf = (devices: Device[]): string[] => devices.map((d) => d.id);
  assert.deepEqual(idsOf(registry.query({ limit: 100, online: false }).items), ['d03']);
  assert.deepEqual(idsOf(registry.query({ limit: 100, type: 'xle', requirements: sel('zone=a') }).items), [
    'd01',
    'd03',
  ]);
  assert.deepEqual(idsOf(registry.query({ limit: 100, q: 'host-D1' }).items), ['d10']);
  assert.deepEqual(registry.query({ limit: 2, online: true, afterId: 'd02' }), {
    items: [registry.get('d04'), registry.get('d05')],
    nextId: 'd05',
  });
  assert.equal(registry.size, 10);
  assert.deepEqual(registry.counts(), { online: 9, offline: 1 });
});

test('a snapshot is taken every N events and at close, and holds live fields', async (t) => {
  const storage = await storageFor(t);
  const clock = new ManualClock();
  const registry = await Registry.open({ storage, bus: new Bus(), clock, snapshotEvery: 5 });
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's1', transport: 'ws' }); // 2 events
  await registry.disconnect('r1', 's1', 'socket_closed'); // 3
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's2', transport: 'ws' }); // 4
  await registry.settled();
  assert.equal(await storage.loadSnapshot(REGISTRY_SNAPSHOT), undefined, 'not before N events');

  await registry.update('r1', { name: 'one' }, api); // 5
  await registry.settled();
  const first = await storage.loadSnapshot<{ devices: Device[] }>(REGISTRY_SNAPSHOT);
  assert.equal(first?.position, await storage.lastPosition());
  assert.equal(first?.state.devices[0]?.name, 'one');

  for (let i = 0; i < 5; i++) await registry.update('r1', { name: `n${i}` }, api); // 10
  await registry.settled();
  const second = await storage.loadSnapshot<{ devices: Device[] }>(REGISTRY_SNAPSHOT);
  assert.equal(second?.position, await storage.lastPosition());
  assert.equal(second?.state.devices[0]?.name, 'n4');

  registry.touch('r1', clock.now() + 7000, 321);
  await registry.close();
  const last = await storage.loadSnapshot<{ devices: Device[] }>(REGISTRY_SNAPSHOT);
  assert.equal(last?.state.devices[0]?.status.uptime, 321, 'live fields persist through the snapshot at close');
  assert.equal(last?.state.devices[0]?.status.lastSeen, clock.now() + 7000);
});

for (const engine of ENGINES) {
  test(`rebuild from snapshot + later events equals the fold of every event (${engine})`, async (t) => {
    const storage = await storageFor(t, engine);
    // Snapshot taken explicitly, so the test does not depend on when automatic ones land.
    const first = await Registry.open({ storage, bus: new Bus(), clock: new ManualClock(), snapshotEvery: 1000 });
    for (let i = 0; i < 6; i++)
      await first.connect({
        id: `d${i}`,
        hello: { type: 'lekiwi', labels: { n: String(i) } },
        sessionId: `s${i}`,
        transport: 'ws',
      });
    await first.disconnect('d1', 's1', 'socket_closed');
    await first.snapshot();
    await first.update('d2', { name: 'two', labels: { n: null, extra: 'x' } }, api);
    await first.report('d3', 's3', 'teleoperation.started', { operator: 'op' });
    await first.decommission('d4', api);
    await first.connect({ id: 'd1', hello: { software: { os: 'linux' } }, sessionId: 's1b', transport: 'ws' });
    await first.settled();
    // No close(): the process "crashes" with events after the last snapshot.
    const snapshot = await storage.loadSnapshot(REGISTRY_SNAPSHOT);
    assert.ok(
      snapshot && snapshot.position > 0 && snapshot.position < (await storage.lastPosition()),
      'events follow the snapshot',
    );

    const statuses: string[] = [];
    const bus = new Bus();
    bus.subscribe('flotilla.*.event.DeviceDisconnected', (_s, data) =>
      statuses.push((data as StoredEvent).aggregateId),
    );
    const second = await Registry.open({ storage, bus, clock: new ManualClock(), snapshotEvery: 1000 });
    t.after(() => second.settled());

    const events = await allEvents(storage);
    const restart = events.filter(
      (e) => e.type === DeviceEventTypes.Disconnected && e.data['reason'] === 'hub_restart',
    );
    assert.deepEqual(
      restart.map((e) => e.aggregateId).sort(),
      ['d0', 'd1', 'd2', 'd3', 'd5'],
      'every device online at the crash',
    );
    assert.deepEqual(restart[0]?.metadata, { actor: 'system', correlationId: null, causationId: null });
    assert.deepEqual(statuses.sort(), ['d0', 'd1', 'd2', 'd3', 'd5']);

    const folded = [...fold(events).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    assert.deepEqual(second.list(), folded);
    assert.equal(second.onlineCount, 0);
    assert.equal(second.size, 5);
    assert.equal(second.position, events.at(-1)?.position);
  });
}

test('metrics: events appended, devices by state, event log size cached for 10 s', async (t) => {
  const storage = await storageFor(t);
  const clock = new ManualClock();
  const metrics = createMetrics({ clock, defaultMetrics: false });
  const registry = await openRegistry(t, storage, { clock, metrics });
  await registry.connect({ id: 'r1', hello: {}, sessionId: 's', transport: 'ws' });
  await registry.connect({ id: 'r2', hello: {}, sessionId: 's', transport: 'ws' });
  await registry.disconnect('r2', 's', 'socket_closed');

  const value = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const metric = await metrics.registry.getSingleMetric(name)?.get();
    return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  assert.equal(await value('flotilla_events_appended_total', { type: 'DeviceRegistered' }), 2);
  assert.equal(await value('flotilla_events_appended_total', { type: 'DeviceDisconnected' }), 1);
  assert.equal(await value('flotilla_devices', { state: 'online' }), 1);
  assert.equal(await value('flotilla_devices', { state: 'offline' }), 1);
  assert.equal(await value('flotilla_event_log_size'), 5);

  await registry.update('r1', { name: 'x' }, api);
  clock.advance(EVENT_LOG_SIZE_TTL_MS - 1);
  assert.equal(await value('flotilla_event_log_size'), 5, 'cached');
  clock.advance(1);
  assert.equal(await value('flotilla_event_log_size'), 6, 'recounted after 10 s');
});
