import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMs, parseDuration, redactUrl, since } from './values.js';

test('durations: bare numbers are ms, units ms/s/m/h/d, sums, fractions', () => {
  const cases: [string, number | undefined][] = [
    ['1500', 1500],
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    [' 10s ', 10_000],
    ['', undefined],
    ['s', undefined],
    ['-5s', undefined],
    ['10 s', undefined],
    ['5w', undefined],
    ['1h-30m', undefined],
    ['abc', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, JSON.stringify(text));
});

test('formatMs picks the largest whole unit', () => {
  assert.deepEqual([1000, 60_000, 86_400_000, 1500, 90_000].map(formatMs), ['1s', '1m', '1d', '1500ms', '90s']);
});

test('--since takes a duration back from now or an ISO date', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  assert.equal(since('1h', '--since', now).toISOString(), '2025-06-01T11:00:00.000Z');
  assert.equal(since('90s', '--since', now).toISOString(), '2025-06-01T11:58:30.000Z');
  assert.equal(since('2025-05-31', '--since', now).toISOString(), '2025-05-31T00:00:00.000Z');
  assert.equal(since('2025-05-31T08:30:00Z', '--since', now).toISOString(), '2025-05-31T08:30:00.000Z');
  assert.equal(since('2025-05-31T08:30:00+02:00', '--since', now).toISOString(), '2025-05-31T06:30:00.000Z');
  for (const bad of ['3600', 'yesterday', '2025-13-45', ''])
    assert.throws(() => since(bad, '--since', now), /--since must be/, bad);
});

test('URLs are shown without their password', () => {
  assert.equal(redactUrl('postgres://flotilla:s3cret@db:5432/fleet'), 'postgres://flotilla:***@db:5432/fleet');
  assert.equal(redactUrl('postgres://db/fleet'), 'postgres://db/fleet');
});
