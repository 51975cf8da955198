import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { Storage } from './types.js';

const user = (id: string, username: string) => ({
  id,
  username,
  role: 'viewer',
  passwordHash: '$scrypt$x',
  disabled: false,
  createdAt: 1,
  updatedAt: 1,
});

for (const engine of ENGINES) {
  describe(`identity storage on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;

    beforeEach(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
    });
    afterEach(async () => {
      await storage.close();
      await target.cleanup();
    });

    it('stores users with unique usernames, updates and deletes them with their tokens and sessions', async () => {
      const id = storage.identity;
      assert.equal(await id.insertUser(user('u1', 'ada')), true);
      assert.equal(await id.insertUser(user('u2', 'ada')), false);
      assert.equal(await id.insertUser(user('u2', 'bob')), true);
      assert.equal(await id.countUsers(), 2);
      assert.deepEqual(await id.userByName('ada'), user('u1', 'ada'));
      const updated = await id.updateUser('u1', { role: 'admin', disabled: true, updatedAt: 5 });
      assert.deepEqual(updated, { ...user('u1', 'ada'), role: 'admin', disabled: true, updatedAt: 5 });
      assert.deepEqual(
        (await id.listUsers()).map((u) => u.username),
        ['ada', 'bob'],
      );
      await id.insertToken({
        id: 't1',
        name: 'ci',
        tokenHash: 'h1',
        role: 'viewer',
        ownerId: 'u1',
        createdAt: 2,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      await id.insertSession({ id: 's1', userId: 'u1', tokenHash: 'r1', createdAt: 2, expiresAt: 10, revokedAt: null });
      assert.equal(await id.deleteUser('u1'), true);
      assert.equal(await id.deleteUser('u1'), false);
      assert.equal(await id.tokenById('t1'), undefined);
      assert.equal(await id.sessionByHash('r1'), undefined);
      assert.equal(await id.userById('u1'), undefined);
    });

    it('finds tokens by hash, revokes them once and records their use', async () => {
      const id = storage.identity;
      const token = {
        id: 't1',
        name: 'ci',
        tokenHash: 'h1',
        role: 'operator',
        ownerId: 'u1',
        createdAt: 2,
        expiresAt: 99,
        revokedAt: null,
        lastUsedAt: null,
      };
      await id.insertToken(token);
      await id.insertToken({ ...token, id: 't2', tokenHash: 'h2', ownerId: 'u2', createdAt: 3 });
      assert.deepEqual(await id.tokenByHash('h1'), token);
      assert.deepEqual(
        (await id.listTokens('u2')).map((t) => t.id),
        ['t2'],
      );
      assert.deepEqual(
        (await id.listTokens()).map((t) => t.id),
        ['t1', 't2'],
      );
      await id.touchToken('t1', 7);
      assert.equal(await id.revokeToken('t1', 8), true);
      assert.equal(await id.revokeToken('t1', 9), false);
      assert.deepEqual(await id.tokenById('t1'), { ...token, lastUsedAt: 7, revokedAt: 8 });
    });

    it('revokes a refresh session exactly once, and access tokens until they expire', async () => {
      const id = storage.identity;
      await id.insertSession({ id: 's1', userId: 'u1', tokenHash: 'r1', createdAt: 2, expiresAt: 10, revokedAt: null });
      await id.insertSession({ id: 's2', userId: 'u1', tokenHash: 'r2', createdAt: 2, expiresAt: 10, revokedAt: null });
      assert.equal(await id.revokeSession('s1', 3), true);
      assert.equal(await id.revokeSession('s1', 4), false);
      await id.revokeUserSessions('u1', 5);
      assert.equal((await id.sessionByHash('r2'))?.revokedAt, 5);
      await id.revokeAccessToken('j1', 100);
      await id.revokeAccessToken('j1', 100);
      assert.equal(await id.isAccessTokenRevoked('j1'), true);
      assert.equal(await id.isAccessTokenRevoked('j2'), false);
      await id.prune(101);
      assert.equal(await id.isAccessTokenRevoked('j1'), false);
      assert.equal(await id.sessionByHash('r1'), undefined);
    });

    it('creates a secret once and returns the stored one after', async () => {
      assert.equal(await storage.identity.secret('jwt', () => 'first'), 'first');
      assert.equal(await storage.identity.secret('jwt', () => 'second'), 'first');
      await storage.close();
      storage = await openStorage(target.options);
      assert.equal(await storage.identity.secret('jwt', () => 'third'), 'first');
    });
  });
}
