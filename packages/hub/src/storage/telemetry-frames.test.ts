import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStorage } from './open.js';
import { decodeFrame, encodeFrame, FRAME_POINT_BYTES } from './telemetry-frames.js';
import { SERIES_REFRESH_MS } from './telemetry-series.js';
import { createTestTarget, type TestTarget } from './testing.js';
import type { TelemetryWrite } from './telemetry-types.js';
import type { Storage } from './types.js';

const T0 = Date.UTC(2024, 0, 1, 12);

describe('telemetry frames: the format', () => {
  it('packs values and series ids, and reads back exactly what it packed', () => {
    const ids = [7, 1, 4_294_967_295, 3];
    const values = [1.5, -0, Number.MAX_VALUE, -273.15];
    const frame = encodeFrame(ids, values, 1, 4);
    assert.equal(frame.byteLength, 3 * FRAME_POINT_BYTES);
    const decoded = decodeFrame(frame);
    assert.deepEqual([...decoded.ids], [1, 4_294_967_295, 3]);
    assert.deepEqual([...decoded.values], [-0, Number.MAX_VALUE, -273.15]);
    // Read from inside a larger buffer (SQLite may hand back a view at any offset).
    const shifted = new Uint8Array(frame.byteLength + 3);
    shifted.set(frame, 3);
    assert.deepEqual([...decodeFrame(shifted.subarray(3)).ids], [1, 4_294_967_295, 3]);
  });

  it('refuses a series id a frame cannot hold', () => {
    assert.throws(() => encodeFrame([2 ** 32], [1], 0, 1), RangeError);
  });
});

/** SQLite reads of raw points from frames, on more frames than one page of a scan holds. */
describe('telemetry frames on sqlite', () => {
  let target: TestTarget;
  let storage: Storage;
  const message = (seq: number, ts: number, metrics: Record<string, number>): TelemetryWrite => ({
    device: 'r1',
    seq,
    ts,
    points: Object.entries(metrics).map(([metric, value]) => ({ metric, value })),
    samples: [],
  });

  before(async () => {
    target = await createTestTarget('sqlite');
    storage = await openStorage(target.options);
    // `rare` once, then 1,300 messages of `a` and `b` a second apart (2.5 scan pages), in three batches.
    await storage.telemetry.write([message(1, T0, { rare: 5, a: -1 })]);
    for (let start = 0; start < 1300; start += 500) {
      const batch: TelemetryWrite[] = [];
      for (let i = start; i < Math.min(1300, start + 500); i++) {
        batch.push(message(i + 2, T0 + 10_000 + i * 1000, { a: i, b: 2 * i }));
      }
      await storage.telemetry.write(batch);
    }
  });
  after(async () => {
    await storage.close();
    await target.cleanup();
  });

  it('reads one metric across pages of frames, oldest first, up to the limit', async () => {
    const all = await storage.telemetry.points({
      device: 'r1',
      metric: 'b',
      from: T0,
      to: T0 + 2_000_000,
      limit: 10_000,
    });
    assert.equal(all.length, 1300);
    assert.deepEqual(all[0], { ts: T0 + 10_000, value: 0 });
    assert.deepEqual(all[1299], { ts: T0 + 10_000 + 1299_000, value: 2598 });
    assert.ok(all.every((p, i) => p.value === 2 * i));
    const some = await storage.telemetry.points({
      device: 'r1',
      metric: 'a',
      from: T0,
      to: T0 + 2_000_000,
      limit: 600,
    });
    assert.equal(some.length, 600);
    assert.deepEqual(some.slice(0, 2), [
      { ts: T0, value: -1 },
      { ts: T0 + 10_000, value: 0 },
    ]);
  });

  it('finds the newest point of a series written long before the others', async () => {
    assert.ok(1300_000 > SERIES_REFRESH_MS);
    assert.deepEqual(await storage.telemetry.latest('r1'), [
      { metric: 'a', ts: T0 + 10_000 + 1299_000, value: 1299 },
      { metric: 'b', ts: T0 + 10_000 + 1299_000, value: 2598 },
      { metric: 'rare', ts: T0, value: 5 },
    ]);
  });

  it('aggregates raw points per bucket across pages', async () => {
    const rows = await storage.telemetry.aggregate({
      devices: ['r1', 'nobody'],
      metric: 'a',
      from: T0,
      to: T0 + 2_000_000,
      bucketMs: 600_000,
      source: 'raw',
    });
    // Bucket T0: -1 at T0 and i = 0..589 (ts < T0 + 600 s); then 600 points each; then the rest.
    assert.deepEqual(
      rows.map((r) => [r.bucket - T0, r.min, r.max, r.count, r.sum, r.lastTs - T0, r.last]),
      [
        [0, -1, 589, 591, (589 * 590) / 2 - 1, 599_000, 589],
        [600_000, 590, 1189, 600, ((590 + 1189) * 600) / 2, 1_199_000, 1189],
        [1_200_000, 1190, 1299, 110, ((1190 + 1299) * 110) / 2, 1_309_000, 1299],
      ],
    );
  });

  it('deletes frames past the raw retention and counts their points', async () => {
    const far = T0 - 1000 * 86_400_000;
    const result = await storage.telemetry.retain({ raw: T0 + 10_000, rollup1m: far, rollup1h: far, seen: far });
    assert.equal(result.points, 2);
    assert.deepEqual(
      await storage.telemetry.points({ device: 'r1', metric: 'rare', from: 0, to: T0 + 1, limit: 10 }),
      [],
    );
    // Its raw point gone, the series answers with its catalogue row.
    assert.deepEqual((await storage.telemetry.latest('r1')).at(-1), { metric: 'rare', ts: T0, value: 5 });
  });
});
