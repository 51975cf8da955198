import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from './errors.js';
import { IDENTITY_FILE, resolveIdentity } from './identity.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'agent-identity-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('generates dev-<random> once, in a 0600 file, and reuses it', () => {
  withDir((root) => {
    const dir = join(root, 'nested', 'state'); // created on demand
    const first = resolveIdentity({ stateDir: dir });
    assert.equal(first.source, 'generated');
    assert.match(first.id, /^dev-[0-9a-f]{12}$/);
    const path = join(dir, IDENTITY_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).id, first.id);
    assert.deepEqual(resolveIdentity({ stateDir: dir }), { id: first.id, source: 'file' });
    assert.deepEqual(readdirSync(dir), [IDENTITY_FILE], 'no temporary file left behind');
  });
});

test('an explicit id wins and writes nothing', () => {
  withDir((dir) => {
    assert.deepEqual(resolveIdentity({ id: 'robot-7', stateDir: dir }), { id: 'robot-7', source: 'option' });
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('an invalid explicit id is refused', () => {
  assert.throws(
    () => resolveIdentity({ id: 'robot.7' }),
    (e: unknown) => e instanceof AgentError && e.code === 'invalid_device_id',
  );
});

test('a corrupt identity file is an error, never a new id', () => {
  withDir((dir) => {
    const path = join(dir, IDENTITY_FILE);
    writeFileSync(path, '{"id": "has space"}');
    assert.throws(
      () => resolveIdentity({ stateDir: dir }),
      (e: unknown) => e instanceof AgentError && e.code === 'identity_unreadable',
    );
    writeFileSync(path, 'not json');
    assert.throws(
      () => resolveIdentity({ stateDir: dir }),
      (e: unknown) => e instanceof AgentError && e.code === 'identity_unreadable',
    );
    assert.equal(readFileSync(path, 'utf8'), 'not json', 'left for the operator to fix');
  });
});

test('a state dir that cannot be created is reported with its own code', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'file'), ''); // a path through a regular file fails even for root
    assert.throws(
      () => resolveIdentity({ stateDir: join(dir, 'file', 'state') }),
      (e: unknown) => e instanceof AgentError && e.code === 'identity_unwritable',
    );
  });
});
