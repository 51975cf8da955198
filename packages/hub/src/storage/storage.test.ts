import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { StorageClosedError } from './errors.js';
import { DATABASE_FILE } from './sqlite.js';
import { migrations } from './migrations/index.js';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { NewEvent, Snapshot } from './types.js';

const TELEMETRY_TABLES = [
  'telemetry_series',
  'telemetry_samples',
  'telemetry_seen',
  'telemetry_dirty',
  'telemetry_rollup_1m',
  'telemetry_rollup_1h',
  'telemetry_settings',
];

/**
 * Drops the telemetry tables and the records of the migrations that made them (0006, 0011, and on
 * SQLite 0016, which holds raw points in `telemetry_frames`), through the engine's own driver.
 */
async function unapplyTelemetry(engine: string, target: TestTarget): Promise<void> {
  const statements = [
    ...[...TELEMETRY_TABLES, engine === 'sqlite' ? 'telemetry_frames' : 'telemetry_values'].map(
      (table) => `drop table ${table}`,
    ),
    "delete from kysely_migration where name in ('0006_telemetry', '0011_telemetry_series', '0016_telemetry_frames')",
  ];
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: target.options.databaseUrl });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
    return;
  }
  const database = new DatabaseSync(join(target.options.dataDir as string, DATABASE_FILE));
  try {
    for (const statement of statements) database.exec(statement);
  } finally {
    database.close();
  }
}

function event(id: string): NewEvent {
  return {
    id,
    aggregateId: 'robot-1',
    type: 'DeviceUpdated',
    ts: 1_700_000_000_000,
    data: { id },
    metadata: { actor: 'system', correlationId: null, causationId: null },
  };
}

for (const engine of ENGINES) {
  describe(`storage on ${engine}`, () => {
    let target: TestTarget;

    beforeEach(async () => {
      target = await createTestTarget(engine);
    });
    afterEach(async () => {
      await target.cleanup();
    });

    it('opens with the engine chosen by the options and a password-free location', async () => {
      const storage = await openStorage(target.options);
      try {
        assert.equal(storage.engine, engine);
        assert.match(storage.location, engine === 'sqlite' ? /flotilla\.db$/ : /^postgres:\/\/postgres@127\.0\.0\.1/);
        assert.equal(await storage.ping(), true);
      } finally {
        await storage.close();
      }
    });

    it('migrates once: opening again applies nothing and keeps every event and snapshot', async () => {
      const first = await openStorage(target.options);
      const stored = await first.appendEvents([event('a'), event('b')]);
      await first.saveSnapshot({ name: 'registry', position: 2, ts: 5, state: { devices: ['r1'] } });
      await first.close();

      const second = await openStorage(target.options);
      try {
        assert.deepEqual(await second.readEvents({ limit: 10 }), stored);
        assert.deepEqual(await second.loadSnapshot('registry'), {
          name: 'registry',
          position: 2,
          ts: 5,
          state: { devices: ['r1'] },
        });
        // Appending after a reopen continues the log instead of reusing positions.
        const [next] = await second.appendEvents([event('c')]);
        assert.equal(next?.position, 3);
      } finally {
        await second.close();
      }
      // A third open still finds the schema complete (the migration list is named in order).
      const third = await openStorage(target.options);
      assert.equal(await third.countEvents(), 3);
      await third.close();
      assert.deepEqual(Object.keys(migrations), [...Object.keys(migrations)].sort());
    });

    it('applies a migration that landed after a later-numbered one the database already has', async () => {
      const first = await openStorage(target.options);
      await first.close();
      // As if this database had been migrated before 0006_telemetry (and 0011 and 0016, which build on it) existed.
      await unapplyTelemetry(engine, target);
      const second = await openStorage(target.options);
      try {
        await second.telemetry.write([
          { device: 'r1', seq: 1, ts: 1_700_000_000_000, points: [{ metric: 'm', value: 1 }], samples: [] },
        ]);
        assert.deepEqual(await second.telemetry.latest('r1'), [{ metric: 'm', ts: 1_700_000_000_000, value: 1 }]);
      } finally {
        await second.close();
      }
    });

    it('saves, loads and overwrites snapshots of any JSON state', async () => {
      const storage = await openStorage(target.options);
      try {
        assert.equal(await storage.loadSnapshot('registry'), undefined);
        const first: Snapshot<{ devices: Record<string, { online: boolean }> }> = {
          name: 'registry',
          position: 10,
          ts: 1_700_000_000_000,
          state: { devices: { r1: { online: true }, r2: { online: false } } },
        };
        await storage.saveSnapshot(first);
        assert.deepEqual(await storage.loadSnapshot('registry'), first);
        const second = { ...first, position: 20, ts: 1_700_000_000_500, state: { devices: {} } };
        await storage.saveSnapshot(second);
        assert.deepEqual(await storage.loadSnapshot('registry'), second);
        await storage.saveSnapshot({ name: 'other', position: 1, ts: 1, state: [1, 'two', null] });
        assert.deepEqual((await storage.loadSnapshot('other'))?.state, [1, 'two', null]);
        assert.deepEqual((await storage.loadSnapshot('registry'))?.position, 20);
        await assert.rejects(storage.saveSnapshot({ name: 'bad', position: 1, ts: 1, state: undefined }), TypeError);
      } finally {
        await storage.close();
      }
    });

    it('finishes appends already submitted when closed, then refuses work', async () => {
      const storage = await openStorage(target.options);
      const pending = storage.appendEvents([event('late')]);
      await storage.close();
      assert.equal((await pending)[0]?.position, 1);
      assert.equal(await storage.ping(), false);
      await assert.rejects(storage.appendEvents([event('x')]), StorageClosedError);
      await assert.rejects(storage.readEvents({ limit: 1 }), { code: 'storage_closed' });
      await storage.close(); // twice is harmless

      const reopened = await openStorage(target.options);
      assert.deepEqual(
        (await reopened.readEvents({ limit: 10 })).map((e) => e.id),
        ['late'],
      );
      await reopened.close();
    });
  });
}
