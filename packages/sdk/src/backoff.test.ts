import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

test('delays double from the initial value up to the cap, with jitter in the upper half', () => {
  const low = (a: number) => backoffDelay(a, { initialMs: 100, maxMs: 1000 }, () => 0);
  const high = (a: number) => backoffDelay(a, { initialMs: 100, maxMs: 1000 }, () => 1);
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(low), [50, 100, 200, 400, 500, 500]);
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(high), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(
    backoffDelay(0, {}, () => 0.5),
    375,
  );
});
