import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, type Settled } from './group-commit.js';

// The batching policy on its own; the event-store tests run it against both engines.

describe('group commit', () => {
  it('batches callers of one tick, runs one batch at a time, and bounds a batch', async () => {
    const batches: number[][][] = [];
    let inFlight = 0;
    const commit = async (batch: readonly (readonly number[])[]): Promise<Settled<number[]>[]> => {
      inFlight++;
      assert.equal(inFlight, 1, 'two batches overlapped');
      batches.push(batch.map((items) => [...items]));
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return batch.map((items) => ({ ok: true, value: items.map((n) => n * 10) }));
    };
    const group = new GroupCommit(commit, 5);
    const first = await Promise.all([group.submit([1, 2]), group.submit([3]), group.submit([4, 5]), group.submit([6])]);
    assert.deepEqual(first, [[10, 20], [30], [40, 50], [60]]);
    // [1,2]+[3] = 3 items, adding [4,5] would make 5 (allowed), adding [6] would exceed 5.
    assert.deepEqual(batches, [[[1, 2], [3], [4, 5]], [[6]]]);
    // A caller larger than the bound still goes through, alone.
    assert.deepEqual(await group.submit([1, 2, 3, 4, 5, 6, 7]), [10, 20, 30, 40, 50, 60, 70]);
    assert.equal(batches.length, 3);
  });

  it('delivers each caller its own outcome and every caller a thrown error', async () => {
    let fail = false;
    const group = new GroupCommit<string, string>(async (batch) => {
      if (fail) throw new Error('connection lost');
      return batch.map((items): Settled<string[]> =>
        items.includes('bad') ? { ok: false, error: new Error('refused') } : { ok: true, value: [...items] },
      );
    }, 100);
    const outcomes = await Promise.allSettled([group.submit(['a']), group.submit(['bad']), group.submit(['c'])]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    fail = true;
    const failed = await Promise.allSettled([group.submit(['x']), group.submit(['y'])]);
    assert.deepEqual(
      failed.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok')),
      ['connection lost', 'connection lost'],
    );
  });

  it('drains: resolves once everything submitted has settled', async () => {
    const settled: string[] = [];
    const group = new GroupCommit<string, string>(
      async (batch) => batch.map((items) => ({ ok: true, value: [...items] })),
      10,
    );
    const pending = group.submit(['a']).then(() => settled.push('a'));
    assert.deepEqual(settled, []);
    await group.drain();
    assert.deepEqual(settled, ['a']);
    await pending;
    await group.drain(); // idle: returns at once
  });
});
