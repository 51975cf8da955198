import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '@flotilla/protocol';
import { startHub, type HubOptions, type RunningHub } from '../index.js';
import { openTestHub } from '../http/testing.js';
import { openStorage } from '../storage/open.js';
import { HubCa } from './ca.js';
import { issueServerCertificate } from './server-certificate.js';
import { startFailure } from '../start-failure.testing.js';

/**
 * `--tls` over real sockets: HTTPS with a certificate from the hub's own CA (kept across
 * restarts), or from files; the CA endpoint; and every way bad certificate files fail the start.
 */
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-tls-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Port 1883 belongs to the machine's Mosquitto; MQTTS is tested in mqtt/broker.test.ts.
const base: HubOptions = {
  port: 0,
  host: '127.0.0.1',
  mqttPort: false,
  logLevel: 'silent',
  adminPassword: 'tls-test-admin-password',
};

function get(
  hub: RunningHub,
  path: string,
  ca: string | undefined,
): Promise<{ status: number; body: string; type: string | undefined; peer: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${hub.url}${path}`, { ...(ca !== undefined && { ca }) }, (res) => {
      const peer = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'], peer }));
    });
    req.on('error', reject);
  });
}

describe('hub with --tls and its own CA', () => {
  test('serves HTTPS under every local name with a certificate from its CA, and keeps the CA across restarts', async () => {
    const dataDir = tempDir();
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const hub = await startHub({ ...base, dataDir, tls: true, tlsNames: ['hub.example.test'], logger });
    let ca: string;
    try {
      assert.match(hub.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(hub.tls);
      ca = hub.tls.ca;
      const health = await get(hub, '/api/v1/health', ca);
      assert.equal(health.status, 200);
      const sans = health.peer.subjectAltName ?? '';
      for (const name of [
        'DNS:localhost',
        'IP Address:127.0.0.1',
        'IP Address:0:0:0:0:0:0:0:1',
        'DNS:hub.example.test',
      ]) {
        assert.ok(sans.includes(name), `${name} in ${sans}`);
      }
      assert.ok(health.peer.checkIssued(new X509Certificate(ca)), 'issued by the hub CA');
      assert.equal(new X509Certificate(hub.tls.cert).fingerprint256, health.peer.fingerprint256);

      const pem = await get(hub, '/api/v1/tls/ca', ca);
      assert.equal(pem.status, 200);
      assert.equal(pem.type, 'application/x-pem-file');
      assert.equal(pem.body, ca);

      // Without the CA, a client refuses the hub: its certificate is not publicly trusted.
      await assert.rejects(get(hub, '/api/v1/health', undefined), /self.signed|unable to verify|local issuer/i);
    } finally {
      await hub.close();
    }
    const log = lines.join('');
    assert.doesNotMatch(log, /PRIVATE KEY/, 'the CA key never reaches the log');
    assert.match(log, /hub CA loaded/);

    const again = await startHub({ ...base, dataDir, tls: true });
    try {
      assert.equal(again.tls?.ca, ca, 'the same CA after a restart');
      assert.equal((await get(again, '/api/v1/health', ca)).status, 200);
    } finally {
      await again.close();
    }
  });

  test('plain HTTP to a TLS hub gets no answer from the API', async () => {
    const hub = await startHub({ ...base, dataDir: tempDir(), tls: true });
    try {
      const plain = hub.url.replace(/^https:/, 'http:');
      await assert.rejects(fetch(`${plain}/api/v1/health`));
    } finally {
      await hub.close();
    }
  });

  test('the CA endpoint says 404 tls_disabled without TLS, and the key is in no response or event', async () => {
    const plain = await openTestHub('sqlite');
    try {
      const res = await plain.app.inject({ url: '/api/v1/tls/ca' });
      assert.equal(res.statusCode, 404);
      assert.equal(JSON.parse(res.body).error.code, 'tls_disabled');
    } finally {
      await plain.dispose();
    }
    const secure = await openTestHub('sqlite', { tls: true });
    try {
      const res = await secure.app.inject({ url: '/api/v1/tls/ca' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /^-----BEGIN CERTIFICATE-----/);
      const events = await secure.inject({ url: '/api/v1/events?limit=500' });
      assert.equal(events.statusCode, 200);
      assert.doesNotMatch(events.body + res.body, /PRIVATE KEY/);
    } finally {
      await secure.dispose();
    }
  });
});

describe('hub with certificate files', () => {
  /** A CA of its own (not the hub's) and a server certificate for localhost from it, in files. */
  async function certificateFiles(): Promise<{ dir: string; cert: string; key: string; ca: string; caPem: string }> {
    const dir = tempDir();
    const storage = await openStorage({ dataDir: join(dir, 'other-ca') });
    try {
      const clock = new ManualClock(Date.now());
      const ca = await HubCa.load(storage.tls, clock);
      const server = await issueServerCertificate(ca, ['localhost', '127.0.0.1'], clock.now());
      const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem') };
      writeFileSync(files.cert, server.cert);
      writeFileSync(files.key, server.key);
      writeFileSync(files.ca, ca.certificatePem);
      return { dir, ...files, caPem: ca.certificatePem };
    } finally {
      await storage.close();
    }
  }

  test('serves the certificate from the files and hands out their CA', async () => {
    const files = await certificateFiles();
    const hub = await startHub({
      ...base,
      dataDir: tempDir(),
      tlsCertFile: files.cert,
      tlsKeyFile: files.key,
      tlsCaFile: files.ca,
    });
    try {
      assert.match(hub.url, /^https:/);
      const res = await get(hub, '/api/v1/tls/ca', files.caPem);
      assert.equal(res.status, 200);
      assert.equal(res.body, files.caPem);
      assert.ok(hub.tls?.ca.endsWith(files.caPem), 'RunningHub.tls.ca bundles the file CA after the hub CA');
      assert.notEqual(hub.tls?.ca, files.caPem);
    } finally {
      await hub.close();
    }
  });

  test('without --tls-ca the CA endpoint says so', async () => {
    const files = await certificateFiles();
    const hub = await startHub({ ...base, dataDir: tempDir(), tlsCertFile: files.cert, tlsKeyFile: files.key });
    try {
      const res = await get(hub, '/api/v1/tls/ca', files.caPem);
      assert.equal(res.status, 404);
      assert.equal(JSON.parse(res.body).error.code, 'tls_ca_unavailable');
    } finally {
      await hub.close();
    }
  });

  test('unreadable, mismatched or missing files fail the start with one line', async () => {
    const files = await certificateFiles();
    const other = await certificateFiles();
    const dataDir = tempDir();
    const missing = await startFailure({
      ...base,
      dataDir,
      tlsCertFile: join(files.dir, 'nope.pem'),
      tlsKeyFile: files.key,
    });
    assert.equal(missing.code, 'tls_invalid');
    assert.match(missing.message, /cannot read the TLS certificate file .*nope\.pem: no such file/);

    const mismatched = await startFailure({ ...base, dataDir, tlsCertFile: files.cert, tlsKeyFile: other.key });
    assert.equal(mismatched.code, 'tls_invalid');
    assert.match(mismatched.message, /does not match the certificate/);

    const notPem = join(files.dir, 'garbage.pem');
    writeFileSync(notPem, 'hello\n');
    const garbage = await startFailure({ ...base, dataDir, tlsCertFile: notPem, tlsKeyFile: files.key });
    assert.match(garbage.message, /holds no PEM certificate/);
    const badKey = await startFailure({ ...base, dataDir, tlsCertFile: files.cert, tlsKeyFile: notPem });
    assert.match(badKey.message, /holds no private key/);
    assert.doesNotMatch(badKey.message + mismatched.message, /PRIVATE KEY|BEGIN/);

    const half = await startFailure({ ...base, dataDir, tlsCertFile: files.cert });
    assert.equal(half.code, 'bad_config');
    const noTls = await startFailure({ ...base, dataDir, requireClientCert: true });
    assert.equal(noTls.code, 'bad_config');
  });
});
