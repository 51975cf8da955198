import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.js';

test('ManualClock fires timers in time order and intervals repeatedly', () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`t200@${clock.now()}`), 200);
  clock.setTimeout(() => fired.push(`t100@${clock.now()}`), 100);
  const every = clock.setInterval(() => fired.push(`i@${clock.now()}`), 150);
  clock.advance(320);
  assert.deepEqual(fired, ['t100@100', 'i@150', 't200@200', 'i@300']);
  every.cancel();
  clock.advance(1000);
  assert.equal(fired.length, 4);
  assert.equal(clock.now(), 1320);
  assert.equal(clock.pending, 0);
});
