import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeUptime, type PresenceChange, type ReportDevice } from './uptime.js';

const H = 3_600_000;
const FROM = Date.UTC(2024, 0, 1);
const TO = FROM + 10 * H;

function uptime(devices: ReportDevice[], initial: Record<string, boolean>, changes: PresenceChange[]) {
  return computeUptime({
    from: FROM,
    to: TO,
    devices,
    initial: new Map(Object.entries(initial)),
    changes,
    offlineAbove: 0.1,
  });
}

const device = (id: string, registeredAt = FROM - H): ReportDevice => ({ id, name: `Robot ${id}`, registeredAt });
const on = (id: string, at: number): PresenceChange => ({ device: id, ts: FROM + at, online: true });
const off = (id: string, at: number): PresenceChange => ({ device: id, ts: FROM + at, online: false });

test('a device online before the range and through it is up 100 %', () => {
  const u = uptime([device('a')], { a: true }, []);
  assert.deepEqual(u.devices, [
    { device: 'a', name: 'Robot a', onlineMs: 10 * H, measuredMs: 10 * H, fraction: 1, connects: 0 },
  ]);
  assert.equal(u.fraction, 1);
  assert.deepEqual(u.overThreshold, []);
});

test('changes inside the range move the state; the state at `from` comes from before it', () => {
  const u = uptime([device('a'), device('b')], { a: true, b: false }, [
    off('a', 2 * H),
    on('b', 3 * H),
    on('a', 4 * H),
    off('b', 8 * H),
  ]);
  const a = u.devices.find((d) => d.device === 'a');
  const b = u.devices.find((d) => d.device === 'b');
  assert.deepEqual([a?.onlineMs, a?.connects], [8 * H, 1]);
  assert.deepEqual([b?.onlineMs, b?.connects], [5 * H, 1]);
  assert.equal(u.fraction, 13 / 20);
  assert.deepEqual(
    u.devices.map((d) => d.device),
    ['b', 'a'],
    'least online first',
  );
  assert.deepEqual(u.overThreshold, ['b', 'a']);
});

test('a device never online in the range counts with 0 %, and is named as offline the whole range', () => {
  const u = uptime([device('a'), device('z')], { a: true, z: false }, []);
  assert.deepEqual(u.offlineWholeRange, ['z']);
  assert.equal(u.devices[0]?.fraction, 0);
  assert.equal(u.fraction, 0.5);
});

test('a device registered inside the range is measured from its registration; one registered after is left out', () => {
  const u = uptime([device('new', FROM + 6 * H), device('later', TO + H)], {}, [on('new', 6 * H), off('new', 7 * H)]);
  assert.deepEqual(u.devices, [
    { device: 'new', name: 'Robot new', onlineMs: H, measuredMs: 4 * H, fraction: 0.25, connects: 1 },
  ]);
});

test('a takeover (connected twice without a disconnect) keeps the device online', () => {
  const u = uptime([device('a')], { a: false }, [on('a', H), on('a', 2 * H), off('a', 3 * H)]);
  assert.equal(u.devices[0]?.onlineMs, 2 * H);
  assert.equal(u.devices[0]?.connects, 2);
});

test('no devices: nothing measured, no fraction', () => {
  const u = uptime([], {}, []);
  assert.equal(u.fraction, null);
  assert.deepEqual(u.devices, []);
});
