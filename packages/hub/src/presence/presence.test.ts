import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@flotilla/protocol';
import { Presence, type PresenceTarget } from './presence.js';

function target(log: string[], name: string): PresenceTarget {
  return { lastSeen: 0, expire: () => log.push(name) };
}

const INTERVAL = 1000;

test('a silent session expires after exactly 3 intervals, not before', () => {
  const clock = new ManualClock();
  // A sweep period longer than the test, so only explicit sweeps run.
  const presence = new Presence({ clock, heartbeatIntervalMs: INTERVAL, sweepEveryMs: 3_600_000 });
  const expired: string[] = [];
  presence.track('r1', target(expired, 'r1'));

  clock.advance(3 * INTERVAL - 1);
  assert.deepEqual(expired, [], 'one millisecond short of 3 intervals');
  assert.equal(presence.sweep(), 0);
  clock.advance(1);
  assert.equal(presence.sweep(), 1, 'due at exactly 3 intervals');
  assert.deepEqual(expired, ['r1']);
  assert.equal(presence.isTracked('r1'), false);
  clock.advance(10 * INTERVAL);
  assert.equal(presence.sweep(), 0);
  assert.deepEqual(expired, ['r1'], 'expires once');
  presence.close();
});

test('the sweep timer finds a silent session within one sweep period', () => {
  const clock = new ManualClock();
  const presence = new Presence({ clock, heartbeatIntervalMs: INTERVAL });
  assert.equal(presence.sweepEveryMs, 100);
  const expired: string[] = [];
  presence.track('r1', target(expired, 'r1'));
  clock.advance(3 * INTERVAL - 1);
  assert.deepEqual(expired, []);
  clock.advance(presence.sweepEveryMs + 1);
  assert.deepEqual(expired, ['r1']);
  presence.close();
  assert.equal(clock.pending, 0, 'close cancels the one sweep timer');
});

test('frames keep a session alive; silence counts from the last one', () => {
  const clock = new ManualClock();
  const presence = new Presence({ clock, heartbeatIntervalMs: INTERVAL });
  const expired: string[] = [];
  presence.track('r1', target(expired, 'r1'));
  for (let i = 0; i < 10; i++) {
    clock.advance(2.9 * INTERVAL);
    presence.touch('r1');
  }
  assert.deepEqual(expired, []);
  clock.advance(3 * INTERVAL);
  assert.deepEqual(expired, ['r1']);
  presence.close();
});

test('one timer for every session; each expires on its own schedule', () => {
  const clock = new ManualClock();
  const presence = new Presence({ clock, heartbeatIntervalMs: INTERVAL });
  const expired: string[] = [];
  for (let i = 0; i < 1000; i++) presence.track(`d${i}`, target(expired, `d${i}`));
  assert.equal(clock.pending, 1);
  clock.advance(INTERVAL);
  for (let i = 0; i < 500; i++) presence.touch(`d${i}`);
  clock.advance(2 * INTERVAL);
  assert.equal(expired.length, 500);
  assert.ok(expired.every((id) => Number(id.slice(1)) >= 500));
  clock.advance(INTERVAL);
  assert.equal(expired.length, 1000);
  assert.equal(presence.size, 0);
  presence.close();
});

test('a replaced target is forgotten and cannot untrack its successor', () => {
  const clock = new ManualClock();
  const presence = new Presence({ clock, heartbeatIntervalMs: INTERVAL });
  const expired: string[] = [];
  const older = target(expired, 'older');
  const newer = target(expired, 'newer');
  presence.track('r1', older);
  presence.track('r1', newer);
  assert.equal(presence.untrack('r1', older), false);
  assert.equal(presence.isTracked('r1'), true);
  clock.advance(3 * INTERVAL + presence.sweepEveryMs);
  assert.deepEqual(expired, ['newer'], 'only the current session expires');
  presence.track('r2', older);
  assert.equal(presence.untrack('r2', older), true);
  clock.advance(10 * INTERVAL);
  assert.deepEqual(expired, ['newer']);
  presence.close();
});
