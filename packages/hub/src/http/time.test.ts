import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTime } from './time.js';

test('parseTime accepts milliseconds and ISO 8601 date-times with a zone', () => {
  assert.equal(parseTime('0'), 0);
  assert.equal(parseTime('1700000000000'), 1_700_000_000_000);
  assert.equal(parseTime('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parseTime('2024-05-01T12:00:00.250Z'), Date.UTC(2024, 4, 1, 12, 0, 0, 250));
  assert.equal(parseTime('2024-05-01T14:00:00+02:00'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parseTime('2024-05-01'), Date.UTC(2024, 4, 1));
});

test('parseTime refuses what is not a time or is ambiguous', () => {
  for (const bad of [
    '',
    'yesterday',
    'May 1 2024',
    '1/2/2024',
    '2024-05-01T12:00:00',
    '2024-13-45T00:00:00Z',
    '-5',
    '1e12',
    '99999999999999999',
  ]) {
    assert.equal(parseTime(bad), undefined, bad);
  }
});
