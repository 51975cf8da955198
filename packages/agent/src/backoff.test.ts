import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

/** Replays a fixed list of "random" numbers, so each delay is known in advance. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

test('windows double from the base and stop at the cap', () => {
  const b = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.5 });
  const delays = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000, 15_000]);
});

test('full jitter: every delay lies in [0, window) and follows the random source', () => {
  const b = new Backoff({ baseMs: 100, capMs: 1000, random: sequence(0, 0.999, 0.25, 0.75) });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [0, 199, 100, 600, 0]);
  for (let i = 0; i < 100; i++) {
    const window = b.window();
    const d = b.next();
    assert.ok(d >= 0 && d < window, `${d} outside [0, ${window})`);
  }
});

test('reset returns to the first window; escalate jumps to the cap', () => {
  const b = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.5 });
  b.next();
  b.next();
  b.next();
  b.reset();
  assert.equal(b.next(), 250);
  b.escalate();
  assert.equal(b.window(), 30_000);
  assert.equal(b.next(), 15_000);
});

test('windows stay finite after very many attempts', () => {
  const b = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999_999 });
  for (let i = 0; i < 5000; i++) b.next();
  assert.equal(b.window(), 30_000);
  assert.ok(Number.isFinite(b.next()));
});

test('rejects bounds that make no window', () => {
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 1000, capMs: 500 }), RangeError);
});
