import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subject, parseSubject, matchSubject, validatePattern, toMqttTopic, fromMqttTopic } from './subjects.js';
import { ProtocolError } from './errors.js';

test('subject builds flotilla.<device>.<kind>[.<name>...]', () => {
  assert.equal(subject('robot-7', 'telemetry', 'battery'), 'flotilla.robot-7.telemetry.battery');
  assert.equal(subject('r1', 'status'), 'flotilla.r1.status');
  assert.throws(() => subject('r.1', 'status'), ProtocolError);
  assert.throws(() => subject('r1', 'event', 'a.b'), ProtocolError);
  assert.throws(() => subject('r1', 'event', '*'), ProtocolError);
});

test('parseSubject recognises only Flotilla subjects', () => {
  assert.deepEqual(parseSubject('flotilla.r1.telemetry.battery'), {
    device: 'r1',
    kind: 'telemetry',
    names: ['battery'],
  });
  assert.equal(parseSubject('other.r1.telemetry'), undefined);
  assert.equal(parseSubject('flotilla.r1.nope'), undefined);
  assert.equal(parseSubject('flotilla.r1'), undefined);
  assert.equal(parseSubject('flotilla.r1.event.a..b'), undefined);
});

test('wildcards follow NATS semantics', () => {
  const yes: [string, string][] = [
    ['flotilla.*.status', 'flotilla.r1.status'],
    ['flotilla.>', 'flotilla.r1.telemetry.battery'],
    ['flotilla.r1.>', 'flotilla.r1.status'],
    ['flotilla.*.event.>', 'flotilla.r1.event.DeviceConnected'],
    ['flotilla.r1.status', 'flotilla.r1.status'],
  ];
  const no: [string, string][] = [
    ['flotilla.*.status', 'flotilla.r1.telemetry'],
    ['flotilla.*', 'flotilla.r1.status'],
    ['flotilla.r1.>', 'flotilla.r1'],
    ['flotilla.r1.status', 'flotilla.r1.status.x'],
    ['flotilla.*.event.>', 'flotilla.r1.event'],
  ];
  for (const [p, s] of yes) assert.equal(matchSubject(p, s), true, `${p} ~ ${s}`);
  for (const [p, s] of no) assert.equal(matchSubject(p, s), false, `${p} !~ ${s}`);
});

test('validatePattern rejects misplaced > and bad tokens', () => {
  assert.equal(validatePattern('flotilla.*.telemetry.>'), undefined);
  assert.match(validatePattern('flotilla.>.status') ?? '', /last token/);
  assert.match(validatePattern('flotilla..status') ?? '', /invalid token/);
  assert.match(validatePattern('') ?? '', /empty/);
  assert.match(validatePattern('a b') ?? '', /invalid token/);
});

test('MQTT topics map . to / and wildcards to + and #', () => {
  assert.equal(toMqttTopic('flotilla.robot-7.telemetry.battery'), 'flotilla/robot-7/telemetry/battery');
  assert.equal(toMqttTopic('flotilla.*.telemetry.>'), 'flotilla/+/telemetry/#');
  assert.equal(fromMqttTopic('flotilla/+/status'), 'flotilla.*.status');
  assert.equal(fromMqttTopic('flotilla/r.1/status'), undefined);
});
