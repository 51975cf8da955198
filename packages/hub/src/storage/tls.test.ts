import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStorage } from './open.js';
import { createTestTarget, ENGINES, type TestTarget } from './testing.js';
import type { Storage } from './types.js';

const T0 = 1_700_000_000_000;

for (const engine of ENGINES) {
  describe(`TLS storage on ${engine}`, () => {
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

    it('keeps the first CA stored: later and racing hubs read that one back', async () => {
      const make = (n: number) => async () => ({ certificate: `cert-${n}`, privateKey: `key-${n}`, created: T0 + n });
      const [a, b] = await Promise.all([storage.tls.ca(make(1)), storage.tls.ca(make(2))]);
      assert.deepEqual(a, b);
      let called = false;
      const again = await storage.tls.ca(async () => {
        called = true;
        return { certificate: 'x', privateKey: 'y', created: 0 };
      });
      assert.deepEqual(again, a);
      assert.equal(called, false, 'an existing CA is read, not generated again');
      // A replica on the same PostgreSQL sees it too (SQLite allows one hub per data directory:
      // its restart is covered by the hub's TLS tests).
      if (engine === 'postgres') {
        const other = await openStorage(target.options);
        try {
          assert.deepEqual(await other.tls.ca(make(3)), a);
        } finally {
          await other.close();
        }
      }
    });

    it('records device certificates by serial and revokes every live one of a device', async () => {
      const store = storage.tls;
      await store.recordCertificate({
        serial: 'a1',
        deviceId: 'robot-1',
        fingerprint: 'f1',
        notAfter: T0 + 10,
        created: T0,
      });
      await store.recordCertificate({
        serial: 'a2',
        deviceId: 'robot-1',
        fingerprint: 'f2',
        notAfter: T0 + 10,
        created: T0 + 1,
      });
      await store.recordCertificate({
        serial: 'b1',
        deviceId: 'robot-2',
        fingerprint: 'f3',
        notAfter: T0 + 10,
        created: T0,
      });
      assert.deepEqual(await store.getCertificate('a1'), {
        serial: 'a1',
        deviceId: 'robot-1',
        fingerprint: 'f1',
        notAfter: T0 + 10,
        created: T0,
        revokedAt: null,
      });
      assert.equal(await store.revokeCertificates('robot-1', T0 + 5), 2);
      assert.equal(await store.revokeCertificates('robot-1', T0 + 6), 0);
      assert.equal((await store.getCertificate('a2'))?.revokedAt, T0 + 5);
      assert.equal((await store.getCertificate('b1'))?.revokedAt, null);
      assert.equal(await store.getCertificate('missing'), undefined);
    });
  });
}
