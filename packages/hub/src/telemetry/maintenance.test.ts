import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@flotilla/protocol';
import { openStorage } from '../storage/open.js';
import { createTestTarget, ENGINES, type TestTarget } from '../storage/testing.js';
import type { AggregateRow, TelemetrySource } from '../storage/telemetry-types.js';
import type { Storage } from '../storage/types.js';
import { TelemetryIngest } from './ingest.js';
import { TelemetryMaintenanceJob } from './maintenance.js';
import { resolveTelemetrySettings } from './settings.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Noon: a whole hour, half a day from either midnight (PostgreSQL partitions are days). */
const T0 = Date.UTC(2024, 0, 1, 12);

for (const engine of ENGINES) {
  describe(`telemetry rollups and retention on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;
    let clock: ManualClock;
    let ingest: TelemetryIngest;
    let job: TelemetryMaintenanceJob;
    const settings = resolveTelemetrySettings({ maintenanceIntervalMs: 30_000 });

    before(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
      clock = new ManualClock(T0 + 2 * HOUR);
      ingest = new TelemetryIngest({ store: storage.telemetry, clock, maxPastMs: settings.maxPastMs });
      job = new TelemetryMaintenanceJob({ store: storage.telemetry, settings, clock });
      job.start();
    });
    after(async () => {
      await job.close();
      await ingest.close();
      await storage.close();
      await target.cleanup();
    });

    const put = async (device: string, seq: number, ts: number, value: number) => {
      const result = await ingest.submit(device, [{ seq, ts, metrics: { m: value } }]);
      assert.deepEqual(result.refused, []);
    };
    const agg = (device: string, source: TelemetrySource, bucketMs: number, from = T0, to = T0 + 2 * HOUR) =>
      storage.telemetry.aggregate({ devices: [device], metric: 'm', from, to, bucketMs, source });
    const row = (bucket: number, min: number, max: number, sum: number, count: number, lastTs: number, last: number) =>
      ({ device: 'r1', bucket, min, max, sum, count, lastTs, last }) satisfies AggregateRow;
    /** One tick of the job on the manual clock, and the pass it started. */
    const tick = async () => {
      clock.advance(settings.maintenanceIntervalMs);
      await job.idle();
    };

    it('rolls up minutes and hours exactly, and again when late points arrive', async () => {
      await put('r1', 1, T0, 10);
      await put('r1', 2, T0 + 20_000, 20);
      await put('r1', 3, T0 + 40_000, 30);
      await put('r1', 4, T0 + MIN, 40);
      await put('r1', 5, T0 + HOUR, 100);
      assert.deepEqual(await agg('r1', 'rollup_1m', MIN), [], 'nothing is rolled up before the job runs');
      await tick();
      assert.deepEqual(await agg('r1', 'rollup_1m', MIN), [
        row(T0, 10, 30, 60, 3, T0 + 40_000, 30),
        row(T0 + MIN, 40, 40, 40, 1, T0 + MIN, 40),
        row(T0 + HOUR, 100, 100, 100, 1, T0 + HOUR, 100),
      ]);
      assert.deepEqual(await agg('r1', 'rollup_1h', HOUR), [
        row(T0, 10, 40, 100, 4, T0 + MIN, 40),
        row(T0 + HOUR, 100, 100, 100, 1, T0 + HOUR, 100),
      ]);
      // 5-minute buckets from minute rollups, 30 s buckets from raw points.
      assert.deepEqual(await agg('r1', 'rollup_1m', 5 * MIN), [
        row(T0, 10, 40, 100, 4, T0 + MIN, 40),
        row(T0 + HOUR, 100, 100, 100, 1, T0 + HOUR, 100),
      ]);
      assert.deepEqual(await agg('r1', 'raw', 30_000, T0, T0 + 2 * MIN), [
        row(T0, 10, 20, 30, 2, T0 + 20_000, 20),
        row(T0 + 30_000, 30, 30, 30, 1, T0 + 40_000, 30),
        row(T0 + MIN, 40, 40, 40, 1, T0 + MIN, 40),
      ]);

      // A late point (an agent replaying its buffer) lands in a minute already rolled up.
      await put('r1', 6, T0 + 10_000, 50);
      await tick();
      assert.deepEqual((await agg('r1', 'rollup_1m', MIN))[0], row(T0, 10, 50, 110, 4, T0 + 40_000, 30));
      assert.deepEqual((await agg('r1', 'rollup_1h', HOUR))[0], row(T0, 10, 50, 150, 5, T0 + MIN, 40));
      // Nothing new: a pass has nothing to do.
      assert.deepEqual(await job.run(), { rolledUp: 0, retention: undefined, extra: {} });
    });

    it('deletes raw points past retention, keeps the rest and the rollups, and refuses old replays', async () => {
      // A day after T0 (a later day than T0's, so in another PostgreSQL partition).
      await put('r2', 1, T0, 1);
      clock.set(T0 + DAY + 2 * HOUR);
      await put('r2', 2, T0 + DAY - HOUR, 2);
      await put('r2', 3, T0 + DAY + HOUR, 3);
      await job.run();
      assert.equal((await agg('r2', 'rollup_1m', MIN, T0, T0 + 2 * DAY)).length, 3);

      // Eight days after T0, the raw cutoff is T0 + 1 day.
      clock.set(T0 + 8 * DAY);
      const pass = await job.run();
      assert.ok(pass.retention, 'retention ran');
      const raw = await storage.telemetry.points({ device: 'r2', metric: 'm', from: 0, to: T0 + 9 * DAY, limit: 10 });
      assert.deepEqual(raw, [{ ts: T0 + DAY + HOUR, value: 3 }]);
      assert.deepEqual(
        (await agg('r2', 'rollup_1m', MIN, T0, T0 + 2 * DAY)).map((r) => [r.bucket, r.sum]),
        [
          [T0, 1],
          [T0 + DAY - HOUR, 2],
          [T0 + DAY + HOUR, 3],
        ],
        'minute rollups outlive raw points',
      );
      // The first message again: its dedup record may be gone, but it is too old to be stored.
      const replay = await ingest.submit('r2', [{ seq: 1, ts: T0, metrics: { m: 1 } }]);
      assert.deepEqual(
        replay.refused.map((r) => r.reason),
        ['ts_too_old'],
      );
      assert.deepEqual(await storage.telemetry.latest('r2'), [{ metric: 'm', ts: T0 + DAY + HOUR, value: 3 }]);
    });
  });
}
