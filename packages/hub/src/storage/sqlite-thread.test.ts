import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteThread } from './sqlite-thread.js';

function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-thread-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'thread.db');
}

test('statements run on the thread in the order sent, with rows, change counts and blobs as sent', async (t) => {
  const thread = new SqliteThread({ file: tempFile(t), busyTimeoutMs: 1000, pragmas: ['pragma journal_mode = wal'] });
  t.after(() => thread.close());
  await thread.execute('create table t (id integer primary key, name text not null unique, data blob)', []);
  // A Buffer from Node's pool shares its ArrayBuffer with other Buffers: only its bytes must arrive.
  const pooled = Buffer.from('frame');
  assert.notEqual(pooled.byteLength, pooled.buffer.byteLength, 'a pooled Buffer (the case under test)');
  const sent = [
    thread.execute('insert into t (name, data) values (?, ?)', ['a', pooled]),
    thread.execute('insert into t (name, data) values (?, ?), (?, ?)', ['b', null, 'c', new Uint8Array([1, 2])]),
    thread.execute('select name, data from t order by id', []),
  ];
  const [first, second, selected] = await Promise.all(sent);
  assert.deepEqual(first, { changes: 1, lastInsertRowid: 1 });
  assert.deepEqual(second, { changes: 2, lastInsertRowid: 3 });
  assert.ok(selected && 'rows' in selected);
  assert.deepEqual(
    selected.rows.map((row) => [row['name'], row['data'] === null ? null : Buffer.from(row['data'] as Uint8Array)]),
    [
      ['a', Buffer.from('frame')],
      ['b', null],
      ['c', Buffer.from([1, 2])],
    ],
  );
});

test("a refused statement rejects with node:sqlite's error codes and the connection goes on", async (t) => {
  const thread = new SqliteThread({ file: tempFile(t), busyTimeoutMs: 1000, pragmas: [] });
  t.after(() => thread.close());
  await thread.execute('create table t (name text primary key)', []);
  await thread.execute('insert into t values (?)', ['a']);
  await assert.rejects(thread.execute('insert into t values (?)', ['a']), (error: Error & { errcode?: number }) => {
    assert.match(error.message, /UNIQUE constraint failed: t\.name/);
    assert.equal(error.errcode, 1555, 'SQLITE_CONSTRAINT_PRIMARYKEY, which sqlite.ts reads');
    return true;
  });
  await assert.rejects(thread.execute('selec nothing', []), /syntax error/);
  assert.deepEqual(await thread.execute('select count(*) as n from t', []), { rows: [{ n: 1 }] });
});

test('a file the thread cannot open refuses every statement with the reason; a closed thread refuses too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-thread-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broken = new SqliteThread({ file: join(dir, 'missing', 'x.db'), busyTimeoutMs: 1000, pragmas: [] });
  await assert.rejects(broken.execute('select 1', []), /unable to open database file/);
  await assert.rejects(broken.execute('select 1', []), /unable to open database file/);
  await broken.close();

  const thread = new SqliteThread({ file: join(dir, 'ok.db'), busyTimeoutMs: 1000, pragmas: [] });
  assert.deepEqual(await thread.execute('select 1 as one', []), { rows: [{ one: 1 }] });
  await thread.close();
  await assert.rejects(thread.execute('select 1', []), /closed/);
  await thread.close();
});
