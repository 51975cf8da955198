import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { Storage } from './types.js';

const T0 = 1_700_000_000_000;

for (const engine of ENGINES) {
  describe(`device identity storage on ${engine}`, () => {
    let target: TestTarget;
    let storage: Storage;

    before(async () => {
      target = await createTestTarget(engine);
      storage = await openStorage(target.options);
    });
    after(async () => {
      await storage.close();
      await target.cleanup();
    });

    it('stores enrollment tokens by hash, lists them and revokes them once', async () => {
      const store = storage.deviceIdentity;
      await store.insertEnrollmentToken({
        id: 'et-list',
        tokenHash: 'hash-list',
        usesAllowed: 3,
        expiresAt: T0 + 1000,
        labels: { site: 'lab' },
        createdBy: 'user:admin',
        created: T0,
      });
      const found = await store.findEnrollmentTokenByHash('hash-list');
      assert.deepEqual(found, {
        id: 'et-list',
        tokenHash: 'hash-list',
        usesAllowed: 3,
        uses: 0,
        expiresAt: T0 + 1000,
        labels: { site: 'lab' },
        createdBy: 'user:admin',
        revokedAt: null,
        created: T0,
      });
      assert.ok((await store.listEnrollmentTokens()).some((t) => t.id === 'et-list'));
      assert.equal(await store.revokeEnrollmentToken('et-list', T0 + 5), true);
      assert.equal(await store.revokeEnrollmentToken('et-list', T0 + 6), false);
      assert.equal((await store.getEnrollmentToken('et-list'))?.revokedAt, T0 + 5);
      assert.equal(await store.getEnrollmentToken('missing'), undefined);
    });

    it('enrolls within the uses allowed, even when enrollments race', async () => {
      const store = storage.deviceIdentity;
      await store.insertEnrollmentToken({
        id: 'et-race',
        tokenHash: 'hash-race',
        usesAllowed: 2,
        expiresAt: null,
        labels: {},
        createdBy: 'system',
        created: T0,
      });
      const outcomes = await Promise.all(
        ['d1', 'd2', 'd3', 'd4'].map((deviceId) =>
          store.enroll({ tokenId: 'et-race', deviceId: `race-${deviceId}`, secretHash: `s-${deviceId}`, now: T0 }),
        ),
      );
      assert.equal(outcomes.filter((o) => o === 'enrolled').length, 2);
      assert.equal(outcomes.filter((o) => o === 'token_unusable').length, 2);
      assert.equal((await store.getEnrollmentToken('et-race'))?.uses, 2);
    });

    it('refuses expired or revoked tokens, and a device that holds a live credential', async () => {
      const store = storage.deviceIdentity;
      await store.insertEnrollmentToken({
        id: 'et-exp',
        tokenHash: 'hash-exp',
        usesAllowed: null,
        expiresAt: T0 + 100,
        labels: {},
        createdBy: 'system',
        created: T0,
      });
      assert.equal(
        await store.enroll({ tokenId: 'et-exp', deviceId: 'x1', secretHash: 'a', now: T0 + 100 }),
        'token_unusable',
      );
      assert.equal(
        await store.enroll({ tokenId: 'et-exp', deviceId: 'x1', secretHash: 'a', now: T0 + 99 }),
        'enrolled',
      );
      // A live credential is not replaced, and the refused attempt does not use the token up.
      assert.equal(
        await store.enroll({ tokenId: 'et-exp', deviceId: 'x1', secretHash: 'b', now: T0 + 1 }),
        'credential_exists',
      );
      assert.equal((await store.getEnrollmentToken('et-exp'))?.uses, 1);
      assert.equal((await store.getCredential('x1'))?.secretHash, 'a');
      // Revoked, it can be replaced by a new enrollment.
      assert.equal(await store.revokeCredential('x1', T0 + 2), true);
      assert.equal(await store.revokeCredential('x1', T0 + 3), false);
      assert.equal((await store.getCredential('x1'))?.revokedAt, T0 + 2);
      assert.equal(await store.enroll({ tokenId: 'et-exp', deviceId: 'x1', secretHash: 'c', now: T0 + 4 }), 'enrolled');
      assert.deepEqual(await store.getCredential('x1'), {
        deviceId: 'x1',
        secretHash: 'c',
        created: T0 + 4,
        revokedAt: null,
        enrolledWith: 'et-exp',
      });
      await store.revokeEnrollmentToken('et-exp', T0 + 5);
      assert.equal(
        await store.enroll({ tokenId: 'et-exp', deviceId: 'x2', secretHash: 'd', now: T0 + 6 }),
        'token_unusable',
      );
      assert.equal(await store.getCredential('x2'), undefined);
    });
  });
}
