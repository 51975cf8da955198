import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyAndCsr } from './csr.js';
import { AgentError } from './errors.js';
import { TLS_KEY_FILE, TlsFiles, checkedCertificate, readCaFile } from './tls-files.js';

const root = mkdtempSync(join(tmpdir(), 'flotilla-agent-tls-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a key and CSR per device: PKCS#8 P-256 key, a PEM request that carries the id', () => {
  const { key, csr } = createKeyAndCsr('robot-7');
  assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n$/);
  const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  assert.equal(der[0], 0x30, 'a DER SEQUENCE');
  assert.ok(der.includes(Buffer.from('robot-7')), 'CN in the subject');
  assert.notEqual(createKeyAndCsr('robot-7').key, key, 'a new key every time');
  // The hub verifies the signature (packages/cli/src/mtls.test.ts): a hub refuses one that does not.
});

test('the CA file is read once and must hold a PEM certificate', () => {
  assert.throws(
    () => readCaFile(join(root, 'missing.pem')),
    (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'ca_unreadable');
      assert.match(err.message, /cannot read the CA file .*missing\.pem: no such file/);
      return true;
    },
  );
  const garbage = join(root, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  assert.throws(() => readCaFile(garbage), /holds no PEM certificate/);
});

test('a stored certificate is used only with its own key and for its own device id', () => {
  const files = new TlsFiles(join(root, 'state'));
  assert.equal(files.loadCertificate('robot-7'), undefined, 'nothing stored yet');
  assert.equal(files.loadCa(), undefined);
  files.saveCa('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
  assert.match(files.loadCa() ?? '', /BEGIN CERTIFICATE/);
  // Not a certificate at all, or a key that is not its own: ignored (the agent asks for a new one).
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKey = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.equal(checkedCertificate('robot-7', otherKey, 'garbage'), undefined);
  files.saveCertificate({ key: otherKey, cert: 'garbage', notAfter: 0 });
  assert.equal(statSync(join(root, 'state', TLS_KEY_FILE)).mode & 0o777, 0o600);
  assert.equal(files.loadCertificate('robot-7'), undefined);
});
