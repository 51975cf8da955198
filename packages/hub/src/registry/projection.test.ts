import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceEventTypes, type StoredEvent } from '@flotilla/protocol';
import { effectiveLabelPatch, factsDiff, registrationData, sameJson } from './facts.js';
import { apply, fold, type DeviceRegisteredData, type RegistryState } from './projection.js';

let position = 0;
function ev(type: string, aggregateId: string, data: object, ts = 1000 + position): StoredEvent {
  position++;
  return {
    position,
    id: `e${position}`,
    aggregateId,
    type,
    ts,
    data: data as Record<string, unknown>,
    metadata: { actor: 'system', correlationId: null, causationId: null },
  };
}

const registered: DeviceRegisteredData = {
  name: 'Lekiwi 7',
  labels: { site: 'lab' },
  type: 'lekiwi',
  model: 'lekiwi-v2',
  hardware: { serial: 'LK-7', model: 'lekiwi-v2' },
  network: { hostname: 'lekiwi-7', ips: ['10.0.0.7'] },
  software: { os: 'linux', agentVersion: '0.1.0' },
  capabilities: [{ name: 'hal.v1.battery', version: '1.0.0' }],
};

test('DeviceRegistered creates an offline device with its facts', () => {
  const state: RegistryState = new Map();
  const device = apply(state, ev(DeviceEventTypes.Registered, 'r7', registered, 5000));
  assert.ok(device);
  assert.equal(state.get('r7'), device);
  assert.deepEqual(device, {
    id: 'r7',
    ...registered,
    status: { online: false, lastSeen: null, connectedAt: null, uptime: null, transport: null },
    resources: {},
    teleoperation: { active: false, operator: null, since: null, streams: [], indicators: [] },
    registeredAt: 5000,
    updatedAt: 5000,
  });
});

test('DeviceConnected and DeviceDisconnected move the status, never mutating the earlier object', () => {
  const state = fold([ev(DeviceEventTypes.Registered, 'r7', registered, 5000)]);
  const before = state.get('r7');
  const online = apply(state, ev(DeviceEventTypes.Connected, 'r7', { sessionId: 's1', transport: 'ws' }, 6000));
  assert.deepEqual(online?.status, { online: true, lastSeen: 6000, connectedAt: 6000, uptime: null, transport: 'ws' });
  assert.equal(online?.updatedAt, 6000);
  assert.equal(before?.status.online, false, 'copy on write');
  const offline = apply(
    state,
    ev(DeviceEventTypes.Disconnected, 'r7', { sessionId: 's1', reason: 'socket_closed' }, 7000),
  );
  assert.deepEqual(offline?.status, {
    online: false,
    lastSeen: 6000,
    connectedAt: 6000,
    uptime: null,
    transport: 'ws',
  });
  assert.equal(online?.status.online, true, 'copy on write');
});

test('DeviceUpdated replaces the fields it carries and patches labels', () => {
  const state = fold([ev(DeviceEventTypes.Registered, 'r7', registered)]);
  const device = apply(
    state,
    ev(
      DeviceEventTypes.Updated,
      'r7',
      { name: 'Kitchen', software: { os: 'linux', agentVersion: '0.2.0' }, labels: { site: null, zone: 'a' } },
      9000,
    ),
  );
  assert.equal(device?.name, 'Kitchen');
  assert.deepEqual(device?.software, { os: 'linux', agentVersion: '0.2.0' });
  assert.deepEqual(device?.labels, { zone: 'a' });
  assert.deepEqual(device?.hardware, registered.hardware, 'fields not in the event are kept');
  assert.equal(device?.updatedAt, 9000);
});

test('DeviceDecommissioned removes the device', () => {
  const state = fold([ev(DeviceEventTypes.Registered, 'r7', registered)]);
  assert.equal(apply(state, ev(DeviceEventTypes.Decommissioned, 'r7', { name: 'Lekiwi 7' })), undefined);
  assert.equal(state.has('r7'), false);
});

test('DeviceReported changes nothing, except teleoperation reports of logs older than TeleoperationStarted', () => {
  const state = fold([ev(DeviceEventTypes.Registered, 'r7', registered)]);
  const before = state.get('r7');
  assert.equal(apply(state, ev(DeviceEventTypes.Reported, 'r7', { type: 'docked', data: { station: 'd1' } })), before);
  const teleop = apply(
    state,
    ev(
      DeviceEventTypes.Reported,
      'r7',
      { type: 'teleoperation.started', data: { operator: 'ana', streams: ['front', 3] } },
      8000,
    ),
  );
  assert.deepEqual(teleop?.teleoperation, {
    active: true,
    operator: 'ana',
    since: 8000,
    streams: ['front'],
    indicators: [],
  });
  const stopped = apply(state, ev(DeviceEventTypes.Reported, 'r7', { type: 'teleoperation.stopped', data: {} }));
  assert.deepEqual(stopped?.teleoperation, inactive);
});

const inactive = { active: false, operator: null, since: null, streams: [], indicators: [] };

test('TeleoperationStarted and TeleoperationStopped drive the teleoperation block; going offline ends it', () => {
  const state = fold([ev(DeviceEventTypes.Registered, 'r7', registered)]);
  const started = apply(
    state,
    ev(
      DeviceEventTypes.TeleoperationStarted,
      'r7',
      { operator: 'ana', indicators: ['command_rate'], streams: [], since: 7000 },
      8000,
    ),
  );
  assert.deepEqual(started?.teleoperation, {
    active: true,
    operator: 'ana',
    since: 7000,
    streams: [],
    indicators: ['command_rate'],
  });
  assert.deepEqual(apply(state, ev(DeviceEventTypes.TeleoperationStopped, 'r7', {}))?.teleoperation, inactive);
  apply(
    state,
    ev(DeviceEventTypes.TeleoperationStarted, 'r7', { operator: null, indicators: ['x'], streams: [] }, 9000),
  );
  assert.equal(state.get('r7')?.teleoperation.since, 9000, 'no since from the device: the event time');
  const offline = apply(state, ev(DeviceEventTypes.Disconnected, 'r7', { sessionId: 's', reason: 'socket_closed' }));
  assert.deepEqual(offline?.teleoperation, inactive);
});

test('events of unknown devices and of other aggregates are ignored', () => {
  const state: RegistryState = new Map();
  assert.equal(apply(state, ev(DeviceEventTypes.Connected, 'ghost', { sessionId: 's', transport: 'ws' })), undefined);
  assert.equal(apply(state, ev(DeviceEventTypes.Updated, 'ghost', { name: 'x' })), undefined);
  assert.equal(apply(state, ev('RolloutStarted', 'rollout-1', {})), undefined);
  assert.equal(state.size, 0);
});

test('registrationData keeps secrets and live values out of the log, with defaults', () => {
  const data = registrationData('r1', { token: 'secret', uptime: 5, resources: { cpu: 3 } });
  assert.deepEqual(data, {
    name: 'r1',
    labels: {},
    type: 'generic',
    model: null,
    hardware: {},
    network: {},
    software: {},
    capabilities: [],
  });
  assert.equal(registrationData('r1', { hardware: { model: 'm2' } }).model, 'm2');
});

test('factsDiff reports only facts that changed, ignoring key order and unstated facts', () => {
  const device = fold([ev(DeviceEventTypes.Registered, 'r7', registered)]).get('r7');
  assert.ok(device);
  assert.equal(factsDiff(device, { type: 'lekiwi', hardware: { model: 'lekiwi-v2', serial: 'LK-7' } }), undefined);
  assert.equal(factsDiff(device, {}), undefined, 'a hello that states nothing changes nothing');
  assert.equal(
    factsDiff(device, { name: 'Other', labels: { x: 'y' } }),
    undefined,
    'name and labels belong to operators',
  );
  assert.deepEqual(factsDiff(device, { network: { hostname: 'lekiwi-7', ips: ['10.0.0.8'] }, type: 'lekiwi' }), {
    network: { hostname: 'lekiwi-7', ips: ['10.0.0.8'] },
  });
  assert.deepEqual(
    factsDiff(device, { capabilities: [...registered.capabilities].reverse().concat({ name: 'hal.v1.led' }) }),
    {
      capabilities: [{ name: 'hal.v1.battery', version: '1.0.0' }, { name: 'hal.v1.led' }],
    },
  );
});

test('effectiveLabelPatch drops entries that change nothing', () => {
  assert.equal(effectiveLabelPatch({ a: '1' }, { a: '1', b: null }), undefined);
  assert.deepEqual(effectiveLabelPatch({ a: '1' }, { a: '2', b: null, c: '3' }), { a: '2', c: '3' });
  assert.deepEqual(effectiveLabelPatch({ a: '1' }, { a: null }), { a: null });
});

test('sameJson compares structure, not key order; arrays stay ordered', () => {
  assert.equal(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), true);
  assert.equal(sameJson({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(sameJson([1, 2], [2, 1]), false);
  assert.equal(sameJson({ a: undefined }, {}), true);
  assert.equal(sameJson([], {}), false);
  assert.equal(sameJson(null, {}), false);
});
