import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openStorage } from './open.js';
import { DATABASE_FILE } from './sqlite.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';

/**
 * Migration 0011 moves the points and the series catalogue that migration 0006's tables hold
 * into `telemetry_series` and `telemetry_values`; on SQLite, 0016 then packs `telemetry_values`
 * into `telemetry_frames`. The database is put back in an earlier state through the engine's own
 * driver, with data, and opened again.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1, 12);

function oldSchema(engine: string): string[] {
  const day = Math.floor(T0 / DAY);
  return [
    engine === 'postgres' ? 'drop table telemetry_values' : 'drop table telemetry_frames',
    'drop table telemetry_series',
    "delete from kysely_migration where name in ('0011_telemetry_series', '0016_telemetry_frames')",
    "update telemetry_settings set value = 'plain' where name = 'layout' and value = 'frames'",
    engine === 'postgres'
      ? 'create table telemetry_points (device text not null, metric text not null, ts bigint not null, value double precision not null) partition by range (ts)'
      : 'create table telemetry_points (device text not null, metric text not null, ts integer not null, value double precision not null)',
    ...(engine === 'postgres'
      ? [
          `create table telemetry_points_d${day} partition of telemetry_points for values from (${day * DAY}) to (${(day + 1) * DAY})`,
        ]
      : []),
    'create index telemetry_points_series_ts on telemetry_points (device, metric, ts)',
    'create table telemetry_latest (device text not null, metric text not null, ts bigint not null, value double precision not null, primary key (device, metric))',
    `insert into telemetry_points values ('r1', 'battery', ${T0}, 90), ('r1', 'battery', ${T0 + 1000}, 89),
      ('r1', 'temp', ${T0}, 40), ('r2', 'battery', ${T0}, 50), ('gone', 'battery', ${T0}, 1)`,
    `insert into telemetry_latest values ('r1', 'battery', ${T0 + 1000}, 89), ('r1', 'temp', ${T0}, 40), ('r2', 'battery', ${T0}, 50)`,
  ];
}

async function run(engine: string, target: TestTarget, statements: readonly string[]): Promise<void> {
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

for (const engine of ENGINES) {
  describe(`migration 0011 on ${engine}`, () => {
    let target: TestTarget;
    before(async () => {
      target = await createTestTarget(engine);
      await (await openStorage(target.options)).close();
      await run(engine, target, oldSchema(engine));
    });
    after(() => target.cleanup());

    it('moves every catalogued series and its points, and new points join them', async () => {
      const storage = await openStorage(target.options);
      try {
        const all = { from: 0, to: T0 + DAY, limit: 10 };
        assert.deepEqual(await storage.telemetry.points({ device: 'r1', metric: 'battery', ...all }), [
          { ts: T0, value: 90 },
          { ts: T0 + 1000, value: 89 },
        ]);
        assert.deepEqual(await storage.telemetry.latest('r1'), [
          { metric: 'battery', ts: T0 + 1000, value: 89 },
          { metric: 'temp', ts: T0, value: 40 },
        ]);
        // A point whose series had left the catalogue (past every retention) is not carried over.
        assert.deepEqual(await storage.telemetry.points({ device: 'gone', metric: 'battery', ...all }), []);
        await storage.telemetry.write([
          { device: 'r2', seq: 1, ts: T0 + 2000, points: [{ metric: 'battery', value: 49 }], samples: [] },
        ]);
        assert.deepEqual(await storage.telemetry.points({ device: 'r2', metric: 'battery', ...all }), [
          { ts: T0, value: 50 },
          { ts: T0 + 2000, value: 49 },
        ]);
      } finally {
        await storage.close();
      }
    });
  });
}

/**
 * Migration 0016 on SQLite: a database in its 0011 state (one row per point in
 * `telemetry_values`) with two messages of r1 at one time, interleaved with r2's, and a point
 * whose series left the catalogue. Every catalogued point is carried over into frames.
 */
describe('migration 0016 on sqlite', () => {
  let target: TestTarget;
  before(async () => {
    target = await createTestTarget('sqlite');
    await (await openStorage(target.options)).close();
    await run('sqlite', target, [
      'drop table telemetry_frames',
      "delete from kysely_migration where name = '0016_telemetry_frames'",
      "update telemetry_settings set value = 'plain' where name = 'layout'",
      'create table telemetry_values (series_id integer not null, ts integer not null, value double precision not null)',
      'create index telemetry_values_series_ts on telemetry_values (series_id, ts)',
      `insert into telemetry_series (id, device, metric, ts, value) values
        (1, 'r1', 'battery', ${T0 + 1000}, 89), (2, 'r1', 'temp', ${T0}, 40), (3, 'r2', 'battery', ${T0}, 50)`,
      `insert into telemetry_values values (1, ${T0}, 90), (2, ${T0}, 40), (3, ${T0}, 50), (1, ${T0}, 91),
        (1, ${T0 + 1000}, 89), (99, ${T0}, 1), (2, ${T0 + 1000}, 41)`,
    ]);
  });
  after(() => target.cleanup());

  it('packs every catalogued point into frames, and new points join them', async () => {
    const storage = await openStorage(target.options);
    try {
      const all = { from: 0, to: T0 + DAY, limit: 10 };
      assert.deepEqual(await storage.telemetry.points({ device: 'r1', metric: 'battery', ...all }), [
        { ts: T0, value: 90 },
        { ts: T0, value: 91 },
        { ts: T0 + 1000, value: 89 },
      ]);
      assert.deepEqual(await storage.telemetry.points({ device: 'r1', metric: 'temp', ...all }), [
        { ts: T0, value: 40 },
        { ts: T0 + 1000, value: 41 },
      ]);
      assert.deepEqual(await storage.telemetry.latest('r1'), [
        { metric: 'battery', ts: T0 + 1000, value: 89 },
        { metric: 'temp', ts: T0 + 1000, value: 41 },
      ]);
      await storage.telemetry.write([
        { device: 'r2', seq: 1, ts: T0 + 2000, points: [{ metric: 'battery', value: 49 }], samples: [] },
      ]);
      assert.deepEqual(await storage.telemetry.points({ device: 'r2', metric: 'battery', ...all }), [
        { ts: T0, value: 50 },
        { ts: T0 + 2000, value: 49 },
      ]);
    } finally {
      await storage.close();
    }
    const database = new DatabaseSync(join(target.options.dataDir as string, DATABASE_FILE), { readOnly: true });
    try {
      const tables = database.prepare("select name from sqlite_master where name = 'telemetry_values'").all();
      assert.deepEqual(tables, []);
      // Consecutive points of one device at one time share a frame (the uncatalogued point between
      // r1's two at T0+1000 is dropped, so they meet): r1@T0 (90, 40), r2@T0, r1@T0 (91), r1@T0+1000 (89, 41).
      const frames = database
        .prepare('select device, ts, length(data) / 12 as n from telemetry_frames order by rowid')
        .all();
      assert.deepEqual(
        frames.map((f) => [f['device'], Number(f['ts']) - T0, f['n']]),
        [
          ['r1', 0, 2],
          ['r2', 0, 1],
          ['r1', 0, 1],
          ['r1', 1000, 2],
          ['r2', 2000, 1],
        ],
      );
    } finally {
      database.close();
    }
  });
});
