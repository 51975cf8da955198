import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatTimestamp, formatUptime, relativeTime } from './time.js';

test('relative times use the largest whole unit', () => {
  const now = 1_000_000_000_000;
  const cases: [number | null, string][] = [
    [now - 400, 'just now'],
    [now - 3_000, '3s ago'],
    [now - 59_999, '59s ago'],
    [now - 5 * 60_000, '5m ago'],
    [now - 2 * 3600_000 - 1, '2h ago'],
    [now - 3 * 86_400_000, '3d ago'],
    [now + 7_000, 'in 7s'],
    [null, 'never'],
  ];
  for (const [ts, text] of cases) assert.equal(relativeTime(ts, now), text);
});

test('uptimes, timestamps and sizes', () => {
  assert.deepEqual([42, 303, 7380, 4 * 86_400 + 11 * 3600 + 5].map(formatUptime), ['42s', '5m 3s', '2h 3m', '4d 11h']);
  assert.equal(formatTimestamp(Date.parse('2025-06-01T12:00:00.123Z')), '2025-06-01T12:00:00Z');
  assert.deepEqual([512, 8 * 1024 ** 3].map(formatBytes), ['512 B', '8.0 GiB']);
});
