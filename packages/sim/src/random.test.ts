import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './random.js';

test('same seed, same sequence; different seed, different sequence', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 50 }, () => a.next());
  assert.deepEqual(
    sa,
    Array.from({ length: 50 }, () => b.next()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 50 }, () => c.next()),
  );
});

test('uniform in [0,1) with the right mean; gaussian with the right spread', () => {
  const r = new Rng(1);
  let sum = 0;
  let sq = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    const g = r.gaussian(3);
    sq += g * g;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  assert.ok(Math.abs(Math.sqrt(sq / n) - 3) < 0.05);
});
