import assert from 'node:assert/strict';
import { test } from 'node:test';
import { telemetryWindow } from './telemetry-stats.js';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 24 * H;
const T = Date.UTC(2024, 4, 1, 10, 30, 20);

test('a short range is read from the 1 min rollups, widened to whole minutes, in at most 120 chart buckets', () => {
  assert.deepEqual(telemetryWindow(T, T + DAY), {
    source: 'rollup_1m',
    from: T - 20_000,
    to: T + DAY + 40_000,
    bucketMs: 15 * MIN,
  });
  assert.equal(telemetryWindow(T, T + 10 * MIN).bucketMs, MIN);
  assert.equal(telemetryWindow(T, T + 2 * DAY).source, 'rollup_1m');
});

test('a long range, or one older than the 1 min retention, is read from the 1 h rollups in whole hours', () => {
  const week = telemetryWindow(T, T + 7 * DAY);
  assert.deepEqual(week, {
    source: 'rollup_1h',
    from: Date.UTC(2024, 4, 1, 10),
    to: Date.UTC(2024, 4, 8, 11),
    bucketMs: 2 * H,
  });
  const old = telemetryWindow(T, T + H, T + 30 * DAY);
  assert.equal(old.source, 'rollup_1h');
  assert.equal(old.bucketMs % H, 0);
  const year = telemetryWindow(T, T + 365 * DAY);
  assert.ok((year.to - year.from) / year.bucketMs <= 120);
  assert.equal(year.bucketMs % H, 0);
});
