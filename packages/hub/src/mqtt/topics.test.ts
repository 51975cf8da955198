import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeDevicePublish, authorizeDeviceSubscribe } from './topics.js';

/** The access rules of docs/mqtt.md, one row each. */

test('a device publishes only its own device → hub topics', () => {
  const allowed: [string, unknown][] = [
    ['flotilla/r1/telemetry', { device: 'r1', kind: 'telemetry' }],
    ['flotilla/r1/telemetry/system.cpu', { device: 'r1', kind: 'telemetry', name: 'system.cpu' }],
    ['flotilla/r1/status', { device: 'r1', kind: 'status' }],
    ['flotilla/r1/event/docked', { device: 'r1', kind: 'event', name: 'docked' }],
    ['flotilla/r1/log', { device: 'r1', kind: 'log' }],
    ['flotilla/r1/result', { device: 'r1', kind: 'result' }],
  ];
  for (const [topic, value] of allowed)
    assert.deepEqual(authorizeDevicePublish('r1', topic), { ok: true, value }, topic);

  assert.deepEqual(authorizeDevicePublish('r1', 'flotilla/r2/telemetry'), {
    ok: false,
    code: 'device_mismatch',
    claimed: 'r2',
  });
  for (const topic of [
    'flotilla/r1/cmd/hal.v1.led',
    'flotilla/r1/credential',
    'flotilla/r1/error',
    'flotilla/r1/telemetry/a/b',
    'flotilla/r1/telemetry/',
    'flotilla/r1/event',
    'flotilla/r1/status/x',
    'flotilla/r1',
    'flotilla/bad.id/telemetry',
    'tonypi/r1/telemetry',
    '$SYS/broker/uptime',
    '',
  ]) {
    assert.deepEqual(authorizeDevicePublish('r1', topic), { ok: false, code: 'forbidden_topic' }, topic);
  }
});

test('a device subscribes only to its own commands, cancels, credential and error topic', () => {
  for (const filter of [
    'flotilla/r1/cmd/#',
    'flotilla/r1/cmd/+',
    'flotilla/r1/cmd/hal.v1.led',
    'flotilla/r1/credential',
    'flotilla/r1/error',
    'flotilla/r1/cancel',
  ]) {
    assert.deepEqual(authorizeDeviceSubscribe('r1', filter), { ok: true, value: filter }, filter);
  }
  assert.deepEqual(authorizeDeviceSubscribe('r1', 'flotilla/r2/cmd/#'), {
    ok: false,
    code: 'device_mismatch',
    claimed: 'r2',
  });
  for (const filter of [
    '#',
    'flotilla/#',
    'flotilla/+/cmd/#',
    'flotilla/r1/#',
    'flotilla/r1/+',
    'flotilla/r1/cmd',
    'flotilla/r1/telemetry',
    'flotilla/r1/credential/#',
    '+/r1/cmd/#',
    '$SYS/#',
  ]) {
    assert.deepEqual(authorizeDeviceSubscribe('r1', filter), { ok: false, code: 'forbidden_topic' }, filter);
  }
});
