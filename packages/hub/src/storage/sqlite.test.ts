import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { LOCK_FILE } from './data-dir-lock.js';
import { DataDirLockedError, DataDirUnwritableError } from './errors.js';
import { openStorage } from './open.js';
import { DATABASE_FILE } from './sqlite.js';

// SQLite-only behaviour: the data directory, its lock, and surviving a killed process.

/** Runs a Node child that opens storage in `dataDir` and appends until killed. */
function startWriter(dataDir: string): { child: ChildProcess; committed: AsyncIterableIterator<string> } {
  const code = `
    const { openStorage } = await import(process.env.STORAGE_MODULE);
    const storage = await openStorage({ dataDir: process.env.DATA_DIR });
    for (let round = 0; ; round++) {
      // Several callers per round so that group commit writes multi-row transactions.
      const calls = Array.from({ length: 8 }, (_, c) =>
        Array.from({ length: 5 }, (_, e) => ({
          id: 'r' + round + '-c' + c + '-e' + e,
          aggregateId: 'robot-' + c,
          type: 'DeviceUpdated',
          ts: Date.now(),
          data: { round, payload: 'x'.repeat(200) },
          metadata: { actor: 'system', correlationId: null, causationId: null },
        })),
      );
      const results = await Promise.all(calls.map((events) => storage.appendEvents(events)));
      process.stdout.write(results.flat().map((e) => e.id).join(' ') + '\\n');
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, STORAGE_MODULE: new URL('./index.js', import.meta.url).href, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  return { child, committed: lines[Symbol.asyncIterator]() };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await exited(child);
  assert.ok(child.pid);
  return child.pid;
}

describe('sqlite data directory', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-sqlite-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing data directory and keeps the database in flotilla.db', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const storage = await openStorage({ dataDir });
    assert.equal(storage.location, join(dataDir, DATABASE_FILE));
    assert.ok(existsSync(join(dataDir, DATABASE_FILE)));
    await storage.close();
  });

  it('refuses a second hub on the same directory and releases the lock on close', async () => {
    const storage = await openStorage({ dataDir: dir });
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
    assert.equal(lock.pid, process.pid);
    await assert.rejects(openStorage({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.equal(error.code, 'data_dir_locked');
      assert.equal(error.pid, process.pid);
      assert.ok(error.message.includes(dir), error.message);
      assert.ok(error.message.includes(String(process.pid)), error.message);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
    await storage.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const again = await openStorage({ dataDir: dir });
    await again.close();
  });

  it('removes its lock when the process exits without closing', async () => {
    const code = `
      const { openStorage } = await import(process.env.STORAGE_MODULE);
      await openStorage({ dataDir: process.env.DATA_DIR });
      process.stdout.write('open\\n');
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, STORAGE_MODULE: new URL('./index.js', import.meta.url).href, DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await exited(child);
    assert.equal(output, 'open\n');
    assert.equal(child.exitCode, 0);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  it('takes over a lock left by a dead process or half written', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host: hostname() }));
    const storage = await openStorage({ dataDir: dir });
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
    assert.equal(lock.pid, process.pid);
    await storage.close();

    writeFileSync(join(dir, LOCK_FILE), '');
    const second = await openStorage({ dataDir: dir });
    await second.close();
  });

  it('respects a lock held from another host, which it cannot check', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host: 'another-host' }));
    await assert.rejects(openStorage({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.match(error.message, /on another-host/);
      return true;
    });
  });

  it('reports a data directory it cannot create or write as data_dir_unwritable', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    // /proc refuses new entries with ENOENT, which sends Node's own recursive mkdir into a loop.
    for (const dataDir of [file, join(file, 'data'), '/proc/flotilla/data']) {
      await assert.rejects(openStorage({ dataDir }), (error: unknown) => {
        assert.ok(error instanceof DataDirUnwritableError);
        assert.equal(error.code, 'data_dir_unwritable');
        assert.ok(error.message.startsWith(`data directory ${dataDir} is not writable: `), error.message);
        return true;
      });
    }
  });

  it('reports a file that is not a database, and leaves no lock behind', async () => {
    writeFileSync(join(dir, DATABASE_FILE), 'x'.repeat(4096));
    await assert.rejects(openStorage({ dataDir: dir }), {
      code: 'database_error',
      message: /is not a SQLite database/,
    });
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });

  it('keeps every committed event when the writing process is killed mid-write', async () => {
    const { child, committed } = startWriter(dir);
    const acknowledged: string[] = [];
    try {
      for (let rounds = 0; rounds < 40; rounds++) {
        const line = await committed.next();
        assert.equal(line.done, false, 'writer stopped early');
        acknowledged.push(...String(line.value).split(' '));
      }
      // While the writer runs, its lock names it.
      await assert.rejects(openStorage({ dataDir: dir }), (error: unknown) => {
        assert.ok(error instanceof DataDirLockedError);
        assert.equal(error.pid, child.pid);
        return true;
      });
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    assert.equal(child.signalCode, 'SIGKILL');

    // The killed writer's lock is stale: reopening takes it over.
    const storage = await openStorage({ dataDir: dir });
    const count = await storage.countEvents();
    const events = await storage.readEvents({ limit: count + 1 });
    await storage.close();
    assert.ok(count >= acknowledged.length, `${count} stored < ${acknowledged.length} acknowledged`);
    const stored = new Set(events.map((e) => e.id));
    assert.deepEqual(
      acknowledged.filter((id) => !stored.has(id)),
      [],
    );
    // Whole transactions only: every stored round has all of its 40 events.
    assert.equal(count % 40, 0);
    assert.deepEqual(
      events.map((e) => e.position),
      Array.from({ length: count }, (_, i) => i + 1),
    );

    const database = new DatabaseSync(join(dir, DATABASE_FILE), { readOnly: true });
    try {
      const result = database
        .prepare('pragma integrity_check')
        .all()
        .map((row) => row['integrity_check']);
      assert.deepEqual(result, ['ok']);
    } finally {
      database.close();
    }
  });
});
