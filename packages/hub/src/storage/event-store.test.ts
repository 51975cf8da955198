import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StoredEvent } from '@flotilla/protocol';
import { DuplicateEventError } from './errors.js';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { NewEvent, Storage } from './types.js';

function event(id: string, fields: Partial<NewEvent> = {}): NewEvent {
  return {
    id,
    aggregateId: 'robot-1',
    type: 'DeviceUpdated',
    ts: 1_700_000_000_000,
    data: {},
    metadata: { actor: 'system', correlationId: null, causationId: null },
    ...fields,
  };
}

/** Reads every page of `query` and returns the positions, in the order served. */
async function pageThrough(storage: Storage, order: 'asc' | 'desc', limit: number, aggregateId?: string) {
  const positions: number[] = [];
  let cursor: number | undefined;
  for (;;) {
    const page = await storage.readEvents({ order, limit, cursor, aggregateId });
    positions.push(...page.map((e) => e.position));
    if (page.length < limit) return positions;
    cursor = page.at(-1)?.position;
  }
}

for (const engine of ENGINES) {
  describe(`event store on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;

    beforeEach(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
    });
    afterEach(async () => {
      await storage.close();
      await target.cleanup();
    });

    it('appends atomically in order and reads back the same events, JSON included', async () => {
      const data = {
        text: 'ünïcødé ✓ "quoted" \\ nul:\u0000 end',
        zebra: 1,
        apple: 2, // key order is kept as written
        nested: { list: [1, 2.5, -3e-7, 'x', null, true, { deep: [] }], empty: {} },
        big: Number.MAX_SAFE_INTEGER,
      };
      const stored = await storage.appendEvents([
        event('e1', { data, metadata: { actor: 'user:ana', correlationId: 'c-1', causationId: null } }),
        event('e2', { type: 'DeviceConnected', ts: 1_700_000_000_123 }),
        event('e3', { aggregateId: 'robot-2' }),
      ]);
      assert.deepEqual(
        stored.map((e) => e.position),
        [1, 2, 3],
      );
      const read = await storage.readEvents({ limit: 10 });
      assert.deepEqual(read, stored);
      const first = read[0] as StoredEvent;
      assert.deepEqual(first.data, data);
      assert.deepEqual(Object.keys(first.data), ['text', 'zebra', 'apple', 'nested', 'big']);
      assert.deepEqual(first.metadata, { actor: 'user:ana', correlationId: 'c-1', causationId: null });
      assert.equal(typeof first.ts, 'number');
      assert.equal(read[1]?.ts, 1_700_000_000_123);
    });

    it('returns what a later read returns: undefined fields dropped, dates as strings', async () => {
      const [stored] = await storage.appendEvents([
        event('e1', { data: { gone: undefined, at: new Date(0), kept: 1 } }),
      ]);
      assert.deepEqual(stored?.data, { at: '1970-01-01T00:00:00.000Z', kept: 1 });
      assert.deepEqual((await storage.readEvents({ limit: 1 }))[0], stored);
    });

    it('filters by aggregate, types, actor and time range', async () => {
      await storage.appendEvents([
        event('a', {
          aggregateId: 'r1',
          type: 'DeviceRegistered',
          ts: 1000,
          metadata: { actor: 'system', correlationId: null, causationId: null },
        }),
        event('b', {
          aggregateId: 'r1',
          type: 'DeviceConnected',
          ts: 2000,
          metadata: { actor: 'device:r1', correlationId: null, causationId: null },
        }),
        event('c', {
          aggregateId: 'r2',
          type: 'DeviceConnected',
          ts: 3000,
          metadata: { actor: 'device:r2', correlationId: null, causationId: null },
        }),
        event('d', {
          aggregateId: 'r2',
          type: 'DeviceUpdated',
          ts: 4000,
          metadata: { actor: 'user:ana', correlationId: null, causationId: null },
        }),
        event('e', {
          aggregateId: 'r1',
          type: 'DeviceDisconnected',
          ts: 5000,
          metadata: { actor: 'system', correlationId: null, causationId: null },
        }),
      ]);
      const ids = async (query: Parameters<Storage['readEvents']>[0]) =>
        (await storage.readEvents(query)).map((e) => e.id).join('');
      assert.equal(await ids({ limit: 10, aggregateId: 'r1' }), 'abe');
      assert.equal(await ids({ limit: 10, types: ['DeviceConnected', 'DeviceUpdated'] }), 'bcd');
      assert.equal(await ids({ limit: 10, types: [] }), 'abcde');
      assert.equal(await ids({ limit: 10, actor: 'system' }), 'ae');
      assert.equal(await ids({ limit: 10, since: 2000 }), 'bcde');
      assert.equal(await ids({ limit: 10, until: 4000 }), 'abc');
      assert.equal(await ids({ limit: 10, since: 2000, until: 5000, aggregateId: 'r2' }), 'cd');
      assert.equal(await ids({ limit: 10, aggregateId: 'r1', types: ['DeviceConnected'], actor: 'device:r1' }), 'b');
      assert.equal(await ids({ limit: 10, aggregateId: 'nobody' }), '');
      assert.equal(await ids({ limit: 2, order: 'desc' }), 'ed');
      assert.equal(await ids({ limit: 0 }), '');
      await assert.rejects(storage.readEvents({ limit: -1 }), RangeError);
    });

    it('pages with a cursor in both orders without gaps or duplicates', async () => {
      const events = Array.from({ length: 95 }, (_, i) => event(`e${i}`, { aggregateId: `r${i % 3}`, ts: 1000 + i }));
      const stored = await storage.appendEvents(events);
      const all = stored.map((e) => e.position);
      assert.deepEqual(await pageThrough(storage, 'asc', 10), all);
      assert.deepEqual(await pageThrough(storage, 'desc', 10), [...all].reverse());
      assert.deepEqual(await pageThrough(storage, 'asc', 95), all);
      const r1 = stored.filter((e) => e.aggregateId === 'r1').map((e) => e.position);
      assert.deepEqual(await pageThrough(storage, 'asc', 7, 'r1'), r1);
      assert.deepEqual(await pageThrough(storage, 'desc', 7, 'r1'), [...r1].reverse());
      // A cursor past either end is an empty page, not an error.
      assert.deepEqual(await storage.readEvents({ limit: 5, cursor: 95 }), []);
      assert.deepEqual(await storage.readEvents({ limit: 5, cursor: 1, order: 'desc' }), []);
    });

    it('group-commits 1,000 concurrent appends, each caller getting its own positions', async () => {
      // Callers append 1 to 3 events each; all are submitted in the same tick.
      const calls = Array.from({ length: 1000 }, (_, i) =>
        Array.from({ length: (i % 3) + 1 }, (_, j) => event(`c${i}-${j}`, { aggregateId: `r${i}` })),
      );
      const resolved: number[] = [];
      const results = await Promise.all(
        calls.map((events, i) => storage.appendEvents(events).then((stored) => (resolved.push(i), stored))),
      );
      // Callers resolve in log order, so a projection fed from the promises applies events in order.
      assert.deepEqual(
        resolved,
        calls.map((_, i) => i),
      );
      const positions: number[] = [];
      results.forEach((stored, i) => {
        assert.deepEqual(
          stored.map((e) => e.id),
          calls[i]?.map((e) => e.id),
        );
        positions.push(...stored.map((e) => e.position));
      });
      const total = calls.reduce((n, events) => n + events.length, 0);
      assert.equal(new Set(positions).size, total);
      // Submission order is log order: positions increase across callers and within each.
      assert.deepEqual(
        positions,
        Array.from({ length: total }, (_, i) => i + 1),
      );
      assert.equal(await storage.countEvents(), total);
      const r500 = await storage.readEvents({ limit: 10, aggregateId: 'r500' });
      assert.deepEqual(r500, results[500]);
    });

    it('refuses a duplicate id for its caller only, even inside a shared batch', async () => {
      await storage.appendEvents([event('taken')]);
      const [before, duplicate, after] = await Promise.allSettled([
        storage.appendEvents([event('n1')]),
        storage.appendEvents([event('n2'), event('taken')]),
        storage.appendEvents([event('n3')]),
      ]);
      assert.equal(before?.status, 'fulfilled');
      assert.equal(after?.status, 'fulfilled');
      assert.equal(duplicate?.status, 'rejected');
      assert.ok(duplicate?.status === 'rejected' && duplicate.reason instanceof DuplicateEventError);
      assert.equal((duplicate.reason as DuplicateEventError).code, 'duplicate_event');
      const ids = (await storage.readEvents({ limit: 10 })).map((e) => e.id);
      assert.deepEqual(ids, ['taken', 'n1', 'n3']);
      await assert.rejects(storage.appendEvents([event('x'), event('x')]), DuplicateEventError);
      assert.equal(await storage.countEvents(), 3);
    });

    it('refuses an event that cannot be stored without failing the others', async () => {
      const [bad, good] = await Promise.allSettled([
        storage.appendEvents([event('bad', { ts: 1.5 })]),
        storage.appendEvents([event('good')]),
      ]);
      assert.equal(bad?.status, 'rejected');
      assert.ok(bad?.status === 'rejected' && bad.reason instanceof TypeError);
      assert.equal(good?.status, 'fulfilled');
      await assert.rejects(storage.appendEvents([event('big', { data: { n: 10n } })]), TypeError);
      assert.deepEqual(await storage.appendEvents([]), []);
      assert.equal(await storage.countEvents(), 1);
    });

    it('counts events and reports the last position', async () => {
      assert.equal(await storage.countEvents(), 0);
      assert.equal(await storage.lastPosition(), 0);
      await storage.appendEvents([event('a'), event('b')]);
      await storage.appendEvents([event('c')]);
      assert.equal(await storage.countEvents(), 3);
      assert.equal(await storage.lastPosition(), 3);
    });
  });
}
