import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewLogLine } from './logs.js';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { Storage } from './types.js';

const T0 = 1_700_000_000_000;

function line(
  device: string,
  ts: number,
  level: number,
  message: string,
  fields?: Record<string, unknown>,
): NewLogLine {
  return { device, ts, level, message, fields, received: ts + 5 };
}

for (const engine of ENGINES) {
  describe(`log store on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;
    let ids: number[];

    before(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
      ids = await storage.logs.write([
        line('r1', T0, 30, 'Booted in 2.1 s', { version: '1.2.0' }),
        line('r1', T0 + 1000, 40, 'Battery LOW: 19 %', { soc: 19 }),
        line('r2', T0 + 2000, 50, 'Motor stalled on the LEFT wheel'),
        line('r1', T0 + 3000, 20, 'odometry reset'),
        line('r2', T0 + 4000, 60, 'ünïcødé 100% _done_ \\ "quoted"', { nested: { a: [1, 2] } }),
      ]);
    });
    after(async () => {
      await storage.close();
      await target.cleanup();
    });

    it('returns ids in the order written, increasing, and reads every column back', async () => {
      assert.equal(ids.length, 5);
      for (let i = 1; i < ids.length; i++) assert.ok((ids[i] as number) > (ids[i - 1] as number));
      const [first] = await storage.logs.read({ order: 'asc', limit: 1 });
      assert.deepEqual(first, {
        id: ids[0],
        device: 'r1',
        ts: T0,
        level: 30,
        message: 'Booted in 2.1 s',
        fields: { version: '1.2.0' },
        received: T0 + 5,
      });
      const [last] = await storage.logs.read({ order: 'desc', limit: 1 });
      assert.deepEqual(last?.fields, { nested: { a: [1, 2] } });
      assert.equal(last?.message, 'ünïcødé 100% _done_ \\ "quoted"');
    });

    it('filters by device, minimum level, text (case-insensitive, wildcards literal) and time', async () => {
      const messages = async (query: Parameters<Storage['logs']['read']>[0]) =>
        (await storage.logs.read(query)).map((l) => l.message);
      assert.deepEqual(await messages({ devices: ['r1'], order: 'asc', limit: 10 }), [
        'Booted in 2.1 s',
        'Battery LOW: 19 %',
        'odometry reset',
      ]);
      assert.deepEqual(await messages({ devices: [], order: 'asc', limit: 10 }), []);
      assert.deepEqual(await messages({ devices: ['r1', 'r2'], minLevel: 50, order: 'asc', limit: 10 }), [
        'Motor stalled on the LEFT wheel',
        'ünïcødé 100% _done_ \\ "quoted"',
      ]);
      assert.deepEqual(await messages({ text: 'low', order: 'asc', limit: 10 }), ['Battery LOW: 19 %']);
      assert.deepEqual(await messages({ text: 'left WHEEL', order: 'asc', limit: 10 }), [
        'Motor stalled on the LEFT wheel',
      ]);
      // % and _ are LIKE wildcards: matched as themselves here.
      assert.deepEqual(await messages({ text: '100%', order: 'asc', limit: 10 }), ['ünïcødé 100% _done_ \\ "quoted"']);
      assert.deepEqual(await messages({ text: '_', order: 'asc', limit: 10 }), ['ünïcødé 100% _done_ \\ "quoted"']);
      assert.deepEqual(await messages({ from: T0 + 1000, to: T0 + 3000, order: 'asc', limit: 10 }), [
        'Battery LOW: 19 %',
        'Motor stalled on the LEFT wheel',
      ]);
    });

    it('pages by id in both directions', async () => {
      const pages = async (order: 'asc' | 'desc') => {
        const seen: number[] = [];
        let cursor: number | undefined;
        for (;;) {
          const page = await storage.logs.read({ order, limit: 2, ...(cursor !== undefined && { cursor }) });
          seen.push(...page.map((l) => l.id));
          if (page.length < 2) return seen;
          cursor = page.at(-1)?.id;
        }
      };
      assert.deepEqual(await pages('asc'), ids);
      assert.deepEqual(await pages('desc'), [...ids].reverse());
    });

    it('retention deletes lines older than the cutoff, and only those', async () => {
      const extra = await storage.logs.write([line('r3', T0 - 10_000, 30, 'old'), line('r3', T0 - 1, 30, 'older')]);
      assert.equal(extra.length, 2);
      assert.equal(await storage.logs.retain(T0), 2);
      assert.equal(await storage.logs.retain(T0), 0);
      assert.equal((await storage.logs.read({ order: 'asc', limit: 100 })).length, 5);
    });
  });
}
