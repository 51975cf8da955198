import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue } from './queue.js';

test('values pushed before a failure are drained before the error is thrown', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  q.push(2);
  q.fail(new Error('refused'));
  q.push(3);
  assert.deepEqual(await q.next(), { value: 1, done: false });
  assert.deepEqual(await q.next(), { value: 2, done: false });
  await assert.rejects(q.next(), /refused/);
  assert.deepEqual(await q.next(), { value: undefined, done: true });
});

test('a waiting pull is answered by the next push or by end; return runs the cleanup once', async () => {
  let cleanups = 0;
  const q = new AsyncQueue<string>(() => cleanups++);
  const waiting = q.next();
  q.push('a');
  assert.deepEqual(await waiting, { value: 'a', done: false });
  await q.return();
  await q.return();
  assert.equal(cleanups, 1);
  const ended = new AsyncQueue<string>();
  const pending = ended.next();
  ended.end();
  assert.deepEqual(await pending, { value: undefined, done: true });
});
