import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFilter } from './change-filter.js';

test('sends everything first, then only moves beyond the threshold', () => {
  const f = new ChangeFilter({ maxIntervalMs: 60_000, thresholds: { cpu: 5, uptime: Infinity } });
  assert.deepEqual(f.filter(0, { cpu: 10, mem: 40, uptime: 100 }), { cpu: 10, mem: 40, uptime: 100 });
  assert.equal(
    f.filter(5_000, { cpu: 14, mem: 40, uptime: 105 }),
    undefined,
    'cpu moved 4 ≤ 5, mem unchanged, uptime never on change',
  );
  assert.deepEqual(
    f.filter(10_000, { cpu: 15.5, mem: 40, uptime: 110 }),
    { cpu: 15.5 },
    'cpu moved 5.5 > 5 from the last value sent',
  );
  assert.deepEqual(
    f.filter(15_000, { cpu: 15.5, mem: 40.1, uptime: 115 }),
    { mem: 40.1 },
    'no threshold: any change goes',
  );
});

test('a metric that does not move is still sent every maxIntervalMs', () => {
  const f = new ChangeFilter({ maxIntervalMs: 60_000, thresholds: { uptime: Infinity } });
  f.filter(0, { uptime: 0, disk: 50 });
  assert.equal(f.filter(59_999, { uptime: 59, disk: 50 }), undefined);
  assert.deepEqual(f.filter(60_000, { uptime: 60, disk: 50 }), { uptime: 60, disk: 50 });
  assert.equal(f.filter(60_001, { uptime: 60, disk: 50 }), undefined);
});

test('reset makes the next sample go out whole', () => {
  const f = new ChangeFilter({ maxIntervalMs: 60_000 });
  f.filter(0, { a: 1, b: 2 });
  assert.equal(f.filter(1, { a: 1, b: 2 }), undefined);
  f.reset();
  assert.deepEqual(f.filter(2, { a: 1, b: 2 }), { a: 1, b: 2 });
});
