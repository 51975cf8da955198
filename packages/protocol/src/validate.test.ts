import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrame, validateMessage, parseClientFrame } from './validate.js';
import { envelope } from './build.js';
import { ErrorCodes } from './errors.js';
import { MESSAGE_TYPES, type MessageType, type PayloadOf } from './messages.js';

/** One valid example per message type; docs/protocol.md shows the same shapes. */
const examples: { [T in MessageType]: PayloadOf<T> } = {
  hello: {
    name: 'Lekiwi 7',
    type: 'lekiwi',
    model: 'lekiwi-v2',
    labels: { site: 'lab', 'fleet.example.com/zone': 'a' },
    hardware: {
      serial: 'LK-0007',
      model: 'lekiwi-v2',
      revision: 'C',
      arch: 'arm64',
      cpus: 4,
      memoryBytes: 8_000_000_000,
    },
    network: { hostname: 'lekiwi-7', mac: '02:00:00:00:00:07', ips: ['10.0.0.7'] },
    software: {
      os: 'linux',
      osVersion: '6.6',
      agentVersion: '0.1.0',
      packages: [{ name: 'lerobot', version: '0.4.1' }],
    },
    capabilities: [{ name: 'hal.v1.battery', version: '1.0.0' }],
    uptime: 12.5,
  },
  welcome: { heartbeatIntervalMs: 30000, hubVersion: '0.1.0', sessionId: 's-1', serverTime: 1_700_000_000_000 },
  heartbeat: { uptime: 42 },
  telemetry: { metrics: { battery: 87.2, 'system.cpu': 12 }, samples: { pose: { x: 1, y: 2, theta: 0.1 } } },
  event: { type: 'docked', data: { station: 'dock-1' } },
  log: { level: 'warn', message: 'wheel slip', fields: { wheel: 'left' } },
  command: {
    id: 'cmd-1',
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 0.2, right: 0.2 },
    timeoutMs: 5000,
  },
  result: { id: 'cmd-1', status: 'succeeded', result: { ok: true } },
  progress: { id: 'cmd-2', progress: 0.4, message: 'leg 2 of 5' },
  cancel: { id: 'cmd-2', reason: 'operator stopped the patrol' },
  ack: { of: 'heartbeat', seq: 3 },
  error: { code: 'bad_frame', message: '/payload must be object', ref: { type: 'telemetry', seq: 9 } },
};

test('every message type has a valid example that round-trips through parseFrame', () => {
  for (const type of MESSAGE_TYPES) {
    const msg = envelope(type, 'robot-7', 1, 1_700_000_000_000, examples[type] as never);
    const parsed = parseFrame(JSON.stringify(msg));
    assert.equal(parsed.ok, true, `${type}: ${JSON.stringify(parsed)}`);
    if (parsed.ok) assert.deepEqual(parsed.value, msg);
  }
});

test('not JSON → bad_json', () => {
  const r = parseFrame('{nope');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, ErrorCodes.BAD_JSON);
});

test('non-object JSON → bad_frame', () => {
  for (const raw of ['[]', '1', 'null', '"x"']) {
    const r = parseFrame(raw);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, ErrorCodes.BAD_FRAME, raw);
  }
});

test('unknown type → unknown_type with the type in ref', () => {
  const r = validateMessage({ v: 1, type: 'teleport', device: 'r1', seq: 4, ts: 1, payload: {} });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.code, ErrorCodes.UNKNOWN_TYPE);
    assert.deepEqual(r.error.ref, { type: 'teleport', seq: 4 });
  }
});

test('wrong protocol version → unsupported_version', () => {
  const r = validateMessage({ v: 2, type: 'heartbeat', device: 'r1', seq: 1, ts: 1, payload: {} });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, ErrorCodes.UNSUPPORTED_VERSION);
});

test('schema violations name the offending path', () => {
  const cases: [unknown, RegExp][] = [
    [
      { v: 1, type: 'telemetry', device: 'r1', seq: 1, ts: 1, payload: { metrics: { battery: 'full' } } },
      /\/payload\/metrics\/battery must be number/,
    ],
    [
      { v: 1, type: 'telemetry', device: 'r1', seq: 1, ts: 1, payload: { metrics: { 'bad name': 1 } } },
      /unknown property 'bad name'/,
    ],
    [{ v: 1, type: 'heartbeat', device: 'r.1', seq: 1, ts: 1, payload: {} }, /\/device must match pattern/],
    [{ v: 1, type: 'heartbeat', device: 'r1', seq: -1, ts: 1, payload: {} }, /\/seq must be >= 0/],
    [{ v: 1, type: 'heartbeat', device: 'r1', seq: 1, ts: 1, payload: {}, extra: true }, /unknown property 'extra'/],
    [{ v: 1, type: 'log', device: 'r1', seq: 1, ts: 1, payload: { level: 'loud', message: 'x' } }, /\/payload\/level/],
    [{ v: 1, type: 'result', device: 'r1', seq: 1, ts: 1, payload: { id: 'c', status: 'done' } }, /\/payload\/status/],
    [
      { v: 1, type: 'hello', device: 'r1', seq: 1, ts: 1, payload: { labels: { 'bad key!': 'x' } } },
      /unknown property 'bad key!'/,
    ],
  ];
  for (const [value, re] of cases) {
    const r = validateMessage(value);
    assert.equal(r.ok, false, JSON.stringify(value));
    if (!r.ok) {
      assert.equal(r.error.code, ErrorCodes.BAD_FRAME);
      assert.match(r.error.message, re);
    }
  }
});

test('frames over the size limit are refused before parsing', () => {
  const big = JSON.stringify({
    v: 1,
    type: 'log',
    device: 'r1',
    seq: 1,
    ts: 1,
    payload: { level: 'info', message: 'x'.repeat(2000) },
  });
  const r = parseFrame(big, 1024);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, ErrorCodes.FRAME_TOO_LARGE);
  const long = JSON.stringify({
    v: 1,
    type: 'log',
    device: 'r1',
    seq: 1,
    ts: 1,
    payload: { level: 'info', message: 'x'.repeat(20_000) },
  });
  const r2 = parseFrame(Buffer.from(long));
  assert.equal(r2.ok, false, 'log message over 16 KiB is refused by schema');
  if (!r2.ok) assert.equal(r2.error.code, ErrorCodes.BAD_FRAME);
});

test('binary frames are decoded as UTF-8', () => {
  const msg = envelope('heartbeat', 'r1', 1, 2, {});
  const r = parseFrame(new TextEncoder().encode(JSON.stringify(msg)));
  assert.equal(r.ok, true);
});

test('client frames: subscribe with throttle, unknown frame type refused', () => {
  assert.equal(
    parseClientFrame(
      JSON.stringify({ type: 'subscribe', subjects: ['flotilla.*.status'], throttle: { rate: 2, strategy: 'latest' } }),
    ).ok,
    true,
  );
  const bad = parseClientFrame(JSON.stringify({ type: 'publish', subjects: ['x'] }));
  assert.equal(bad.ok, false);
  const badThrottle = parseClientFrame(
    JSON.stringify({ type: 'subscribe', subjects: ['a'], throttle: { rate: 0, strategy: 'latest' } }),
  );
  assert.equal(badThrottle.ok, false);
});

test('welcome may carry the credential of a device that just enrolled, and nothing else unknown', () => {
  const base = examples.welcome;
  const withCredential = validateMessage(envelope('welcome', 'lekiwi-7', 0, 1, { ...base, credential: 'fld_abc' }));
  assert.equal(withCredential.ok, true);
  const empty = validateMessage(envelope('welcome', 'lekiwi-7', 0, 1, { ...base, credential: '' }));
  assert.equal(empty.ok, false);
  const extra = validateMessage(
    envelope('welcome', 'lekiwi-7', 0, 1, { ...base, secret: 'x' } as PayloadOf<'welcome'>),
  );
  assert.equal(extra.ok, false);
});
