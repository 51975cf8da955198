import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@flotilla/protocol';
import { openStorage } from '../storage/open.js';
import { createTestTarget, ENGINES, type TestTarget } from '../storage/testing.js';
import type { Storage } from '../storage/types.js';
import { MetricsRegistry } from '../metrics.js';
import { TelemetryIngest, type Pressure } from './ingest.js';
import { telemetryMetrics } from './metrics.js';

const T0 = Date.UTC(2024, 0, 1, 12);

for (const engine of ENGINES) {
  describe(`telemetry ingest on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;
    const clock = new ManualClock(T0);

    before(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
    });
    after(async () => {
      await storage.close();
      await target.cleanup();
    });

    const points = (device: string, metric: string) =>
      storage.telemetry.points({ device, metric, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 1000 });

    it('stores a numbered message once, however often and however concurrently it is sent', async () => {
      const ingest = new TelemetryIngest({ store: storage.telemetry, clock });
      const batch = [
        { seq: 1, ts: T0, metrics: { battery: 90 } },
        { seq: 2, ts: T0 + 1000, metrics: { battery: 89 }, samples: { pose: { x: 1 } } },
      ];
      // The same call twice in one loop turn (one transaction), then again later (a replay).
      const [first, second] = await Promise.all([ingest.submit('dup-1', batch), ingest.submit('dup-1', batch)]);
      const third = await ingest.submit('dup-1', [...batch, { seq: 3, ts: T0 + 2000, metrics: { battery: 88 } }]);
      assert.deepEqual(first, { acked: [1, 2], duplicates: [], refused: [], written: 3 });
      assert.deepEqual(second, { acked: [1, 2], duplicates: [1, 2], refused: [], written: 0 });
      assert.deepEqual(third, { acked: [1, 2, 3], duplicates: [1, 2], refused: [], written: 1 });
      assert.deepEqual(await points('dup-1', 'battery'), [
        { ts: T0, value: 90 },
        { ts: T0 + 1000, value: 89 },
        { ts: T0 + 2000, value: 88 },
      ]);
      assert.deepEqual(
        await storage.telemetry.samples({ device: 'dup-1', name: 'pose', from: 0, to: T0 + 10_000, limit: 10 }),
        [{ ts: T0 + 1000, data: { x: 1 } }],
      );
      // The catalogue row was written with the first point only (refreshed once a minute of data
      // time); the latest value is still the newest point.
      assert.deepEqual(await storage.telemetry.latest('dup-1'), [{ metric: 'battery', ts: T0 + 2000, value: 88 }]);
      // The same seq from another device is another message.
      const other = await ingest.submit('dup-2', [{ seq: 1, ts: T0, metrics: { battery: 50 } }]);
      assert.deepEqual(other.duplicates, []);
      assert.deepEqual(await points('dup-2', 'battery'), [{ ts: T0, value: 50 }]);
      await ingest.close();
    });

    it('refuses bad values and messages with a reason and stores the rest of the call', async () => {
      const ingest = new TelemetryIngest({ store: storage.telemetry, clock, maxSubmitPoints: 4 });
      const result = await ingest.submit('bad-1', [
        {
          seq: 10,
          ts: T0,
          metrics: {
            ok: 1,
            nan: NaN,
            inf: -Infinity,
            text: '12' as unknown as number,
            'bad name': 3,
            ['m'.repeat(129)]: 4,
          },
        },
        { seq: 11, ts: T0 + 6 * 60_000, metrics: { ok: 2 } },
        { seq: 12, ts: T0 - 8 * 86_400_000, metrics: { ok: 3 } },
        { seq: 13, ts: 1.5, metrics: { ok: 4 } },
        { seq: -1, ts: T0, metrics: { ok: 5 } },
        { seq: 14, ts: T0 + 1, metrics: { ok: 6, other: 7 } },
        { seq: 15, ts: T0 + 2, metrics: { ok: 8, other: 9 } },
      ]);
      assert.deepEqual(result.acked, [10, 14]);
      assert.equal(result.written, 3);
      const reasons = result.refused.map((r) => [r.index, r.reason, r.name ?? null]);
      assert.deepEqual(reasons, [
        [0, 'not_finite', 'nan'],
        [0, 'not_finite', 'inf'],
        [0, 'not_numeric', 'text'],
        [0, 'bad_name', 'bad name'],
        [0, 'name_too_long', `${'m'.repeat(128)}…`],
        [1, 'ts_in_future', null],
        [2, 'ts_too_old', null],
        [3, 'bad_timestamp', null],
        [4, 'bad_seq', null],
        [6, 'batch_too_large', null],
      ]);
      assert.ok(result.refused.every((r) => r.message.length > 0));
      assert.deepEqual(await points('bad-1', 'ok'), [
        { ts: T0, value: 1 },
        { ts: T0 + 1, value: 6 },
      ]);
      assert.deepEqual(await points('bad-1', 'other'), [{ ts: T0 + 1, value: 7 }]);
      await ingest.close();
    });

    it('says full at the high water mark, refuses past the hard limit and says ok once drained', async () => {
      const metrics = telemetryMetrics(new MetricsRegistry());
      const ingest = new TelemetryIngest({
        store: storage.telemetry,
        clock,
        metrics,
        highWaterPoints: 4,
        lowWaterPoints: 1,
        maxQueuedPoints: 6,
      });
      const signals: Pressure[] = [];
      ingest.on('pressure', (p) => signals.push(p));
      const message = (seq: number) => ({ seq, ts: T0, metrics: { a: seq, b: seq } });
      // Nothing is written before the next turn of the event loop, so the queue only grows here.
      const first = ingest.submit('bp-1', [message(1)]);
      assert.equal(ingest.pressure, 'ok');
      const second = ingest.submit('bp-1', [message(2)]);
      assert.equal(ingest.queuedPoints, 4);
      assert.equal(ingest.pressure, 'full');
      assert.deepEqual(signals, ['full']);
      const third = ingest.submit('bp-1', [message(3)]);
      const refused = await ingest.submit('bp-1', [message(4)]);
      assert.deepEqual(
        refused.refused.map((r) => [r.seq, r.reason]),
        [[4, 'overloaded']],
      );
      assert.deepEqual(
        (await Promise.all([first, second, third])).map((r) => r.acked),
        [[1], [2], [3]],
      );
      assert.equal(ingest.queuedPoints, 0);
      assert.equal(ingest.pressure, 'ok');
      assert.deepEqual(signals, ['full', 'ok']);
      assert.equal((await points('bp-1', 'a')).length, 3);
      // What /metrics says about it: three calls through the queue, one refusal, nothing waiting.
      const value = async (metric: { get(): Promise<{ values: { metricName?: string; value: number }[] }> }) =>
        (await metric.get()).values.find((v) => v.metricName?.endsWith('_count') ?? true)?.value;
      assert.equal(await value(metrics.ingestSeconds), 3);
      assert.equal(await value(metrics.refused), 1);
      assert.equal(await value(metrics.queued), 0);
      await ingest.close();
    });

    it('rejects the calls of a batch the store failed to write, and acknowledges nothing of them', async () => {
      // A real store whose engine is gone: every write fails in the driver.
      const gone = await createTestTarget(engine);
      const closed = await openStorage(gone.options);
      await closed.close();
      const ingest = new TelemetryIngest({ store: closed.telemetry, clock });
      try {
        await assert.rejects(ingest.submit('x-1', [{ seq: 1, ts: T0, metrics: { a: 1 } }]), { code: 'database_error' });
      } finally {
        await gone.cleanup();
      }
      assert.equal(ingest.queuedPoints, 0);
      await ingest.close();
      const late = await ingest.submit('x-1', [{ seq: 2, ts: T0, metrics: { a: 1 } }]);
      assert.deepEqual(
        late.refused.map((r) => r.reason),
        ['shutting_down'],
      );
    });
  });
}
