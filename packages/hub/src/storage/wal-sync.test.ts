import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WalSync } from './wal-sync.js';

test('syncs asked for together share one fdatasync and all resolve; a closed sync refuses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-wal-sync-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'flotilla.db-wal');
  writeFileSync(file, 'frames');
  const wal = new WalSync(file);
  const order: number[] = [];
  await Promise.all([1, 2, 3].map((n) => wal.sync().then(() => order.push(n))));
  assert.deepEqual(order, [1, 2, 3], 'callers resolve in the order they asked');
  await wal.close();
  await assert.rejects(wal.sync(), /closed/);
});

test('a WAL file that cannot be opened fails at construction, naming it', () => {
  assert.throws(() => new WalSync(join(tmpdir(), 'flotilla-no-such-dir', 'x.db-wal')), /ENOENT/);
});
