import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Agent, createLogger, type StateEvent } from '@flotilla/agent';
import { startSimulation } from '@flotilla/sim';
import { startHub, type RunningHub } from '@flotilla/hub';
import { envelope, type ErrorPayload } from '@flotilla/protocol';

/**
 * Mutual TLS end to end over real sockets: a hub with `--tls` and `--require-client-cert`, real
 * agents that enroll over WSS with `--ca`, get a credential and a client certificate, and come
 * back presenting it; a raw WebSocket client plays the device that tries what it must not.
 * Waiting is on agent state events and socket events, never on time.
 */
const root = mkdtempSync(join(tmpdir(), 'flotilla-mtls-'));
const ADMIN_PASSWORD = 'mtls-admin-password';
let hub: RunningHub;
let caFile: string;
let adminToken: string;
const agents: Agent[] = [];

function request(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${hub.url}${path}`,
      {
        method,
        ca: hub.tls?.ca,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

before(async () => {
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    // Port 1883 belongs to the machine's Mosquitto; MQTTS is tested in the hub's mqtt tests.
    mqttPort: false,
    dataDir: join(root, 'hub'),
    logLevel: 'silent',
    adminPassword: ADMIN_PASSWORD,
    heartbeatIntervalMs: 1000,
    tls: true,
    requireClientCert: true,
  });
  // What `flotilla provision` and an operator do: fetch the CA from the public endpoint.
  const ca = await request('GET', '/api/v1/tls/ca');
  assert.equal(ca.status, 200);
  caFile = join(root, 'hub-ca.pem');
  writeFileSync(caFile, ca.body);
  const login = await request('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
  adminToken = (JSON.parse(login.body) as { token: string }).token;
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await hub?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Captured {
  lines: Array<Record<string, unknown>>;
}

function newAgent(options: ConstructorParameters<typeof Agent>[0], captured?: Captured): Agent {
  const logger = createLogger('debug', {
    write: (line: string) => captured?.lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const agent = new Agent({ systemFacts: false, collectSystemMetrics: false, logger, ...options });
  agents.push(agent);
  return agent;
}

/** Starts the agent and resolves with its first Connected or Disconnected event. */
function firstOutcome(agent: Agent): Promise<StateEvent> {
  return new Promise((resolve) => {
    const listener = (event: StateEvent): void => {
      if (event.state === 'Connected' || event.state === 'Disconnected') {
        agent.off('state', listener);
        resolve(event);
      }
    };
    agent.on('state', listener);
    agent.start();
  });
}

async function enroll(id: string): Promise<{ stateDir: string }> {
  const stateDir = join(root, id);
  const { token } = await hub.createEnrollmentToken({ uses: 1 });
  const agent = newAgent({ hubUrl: hub.url, id, stateDir, token, caFile });
  const outcome = await firstOutcome(agent);
  assert.equal(outcome.state, 'Connected', JSON.stringify(outcome));
  await agent.stop();
  return { stateDir };
}

function files(stateDir: string): { key: string; cert: string; ca: string; credential: string } {
  const identity = JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as { credential: string };
  return {
    key: readFileSync(join(stateDir, 'tls-key.pem'), 'utf8'),
    cert: readFileSync(join(stateDir, 'tls-cert.pem'), 'utf8'),
    ca: readFileSync(join(stateDir, 'ca.pem'), 'utf8'),
    credential: identity.credential,
  };
}

/** A raw device: says hello as `device` over WSS with the given client certificate; resolves with the hub's answer. */
function rawHello(
  device: string,
  token: string,
  tls: { key?: string; cert?: string },
  extra: Record<string, unknown> = {},
): Promise<{ type: string; error?: ErrorPayload; credential?: string; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${hub.url.replace('https', 'wss')}/ws/agent`, { ca: hub.tls?.ca, ...tls });
    let answer: { type: string; error?: ErrorPayload; credential?: string } | undefined;
    ws.on('open', () => ws.send(JSON.stringify(envelope('hello', device, 1, Date.now(), { token, ...extra }))));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; payload: unknown };
      answer ??= {
        type: frame.type,
        ...(frame.type === 'error' && { error: frame.payload as ErrorPayload }),
        ...(frame.type === 'welcome' && { credential: (frame.payload as { credential?: string }).credential }),
      };
      if (frame.type === 'welcome') ws.close();
    });
    ws.on('close', (code) => (answer ? resolve({ ...answer, closeCode: code }) : reject(new Error(`closed ${code}`))));
    ws.on('error', reject);
  });
}

test('an agent enrolls over WSS with --ca, keeps credential, key, certificate and CA, and comes back presenting its certificate', async () => {
  const { stateDir } = await enroll('robot-a');
  const stored = files(stateDir);
  assert.match(stored.credential, /^fld_/);
  assert.equal(statSync(join(stateDir, 'tls-key.pem')).mode & 0o777, 0o600);
  const cert = new X509Certificate(stored.cert);
  assert.ok(cert.subject.split('\n').includes('CN=robot-a'), cert.subject);
  assert.ok(cert.checkIssued(new X509Certificate(hub.tls!.ca)), 'issued by the hub CA');
  assert.ok(cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(stored.key))));
  assert.equal(stored.ca, readFileSync(caFile, 'utf8'));

  // No --ca, no token: the stored CA verifies the hub, the stored certificate satisfies
  // --require-client-cert, the stored credential authenticates.
  const again = newAgent({ hubUrl: hub.url, id: 'robot-a', stateDir });
  const outcome = await firstOutcome(again);
  assert.equal(outcome.state, 'Connected', JSON.stringify(outcome));
  await again.stop();
  assert.equal(files(stateDir).cert, stored.cert, 'no new certificate while the current one is good');

  // The same credential without the certificate is refused on this hub.
  const bare = await rawHello('robot-a', stored.credential, {});
  assert.equal(bare.error?.code, 'certificate_required');
  assert.equal(bare.closeCode, 4003);
  // ...and with it, accepted.
  assert.equal((await rawHello('robot-a', stored.credential, { key: stored.key, cert: stored.cert })).type, 'welcome');
});

test("a certificate for device A cannot say hello as B, even with B's own credential", async () => {
  const a = files((await enroll('robot-c')).stateDir);
  const b = files((await enroll('robot-d')).stateDir);
  const refused = await rawHello('robot-d', b.credential, { key: a.key, cert: a.cert });
  assert.equal(refused.type, 'error');
  assert.equal(refused.error?.code, 'certificate_mismatch');
  assert.equal(refused.closeCode, 4003);
  const metrics = await request('GET', '/metrics', undefined, adminToken);
  assert.match(metrics.body, /flotilla_security_events_total\{kind="certificate_mismatch"\} [1-9]/);
  const events = await request('GET', '/api/v1/events?device=robot-d&type=DeviceAuthFailed', undefined, adminToken);
  assert.match(events.body, /certificate_mismatch/);
});

test('revoking the credential makes the certificate unusable: the records decide, not only the signature', async () => {
  const { stateDir } = await enroll('robot-e');
  const old = files(stateDir);
  const revoked = await request('DELETE', '/api/v1/devices/robot-e/credential', undefined, adminToken);
  assert.equal(revoked.status, 204);
  // Enroll the id again (an operator's new token) while still presenting the old certificate:
  // allowed, since enrolling replaces it...
  const { token } = await hub.createEnrollmentToken({ uses: 1 });
  const reenrolled = await rawHello('robot-e', token, { key: old.key, cert: old.cert });
  assert.equal(reenrolled.type, 'welcome');
  assert.match(reenrolled.credential ?? '', /^fld_/);
  // ...but the old certificate, valid by its signature, is refused with the new credential.
  const stale = await rawHello('robot-e', reenrolled.credential!, { key: old.key, cert: old.cert });
  assert.equal(stale.error?.code, 'certificate_revoked');
  assert.equal(stale.closeCode, 4003);
});

test('an agent that does not trust the hub refuses it with a clear error; plain ws:// to a TLS hub fails', async () => {
  const captured: Captured = { lines: [] };
  const untrusting = newAgent({ hubUrl: hub.url, id: 'robot-x', stateDir: join(root, 'robot-x') }, captured);
  const outcome = await firstOutcome(untrusting);
  assert.equal(outcome.state, 'Disconnected');
  assert.equal(outcome.state === 'Disconnected' && outcome.reason, 'socket_error');
  assert.match(String(outcome.state === 'Disconnected' && outcome.detail), /self.signed|unable to verify|issuer/i);
  assert.ok(
    captured.lines.some((l) => l['level'] === 50 && /not trusted .*--ca FILE/.test(String(l['msg']))),
    JSON.stringify(captured.lines),
  );
  await untrusting.stop();

  const plainCaptured: Captured = { lines: [] };
  const plain = newAgent(
    { hubUrl: hub.url.replace('https', 'ws'), id: 'robot-y', stateDir: join(root, 'robot-y') },
    plainCaptured,
  );
  const plainOutcome = await firstOutcome(plain);
  assert.equal(plainOutcome.state, 'Disconnected');
  assert.ok(
    plainCaptured.lines.some(
      (l) => l['level'] === 50 && /if it serves TLS .*https:\/\/ or wss:\/\//.test(String(l['msg'])),
    ),
    JSON.stringify(plainCaptured.lines),
  );
  await plain.stop();
});

test('a CSR that does not verify refuses the hello before the enrollment token is used', async () => {
  const { token } = await hub.createEnrollmentToken({ uses: 1 });
  const forged = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n';
  const refused = await rawHello('robot-f', token, {}, { csr: forged });
  assert.equal(refused.error?.code, 'invalid_csr');
  // The token is still unused: the same device enrolls with it.
  const agent = newAgent({ hubUrl: hub.url, id: 'robot-f', stateDir: join(root, 'robot-f'), token, caFile });
  assert.equal((await firstOutcome(agent)).state, 'Connected');
  await agent.stop();
});

test('simulated robots reach a TLS hub with its CA and enroll without client certificates', async () => {
  const { token } = await hub.createEnrollmentToken({ uses: 2 });
  // --require-client-cert applies to enrolled devices; these enroll now, and stop after.
  const sim = await startSimulation({
    hubUrl: hub.url,
    count: 2,
    kind: 'xle',
    token,
    ca: hub.tls!.ca,
    idPrefix: 'sim-tls',
  });
  try {
    assert.equal(sim.onlineCount(), 2);
    const device = await request('GET', `/api/v1/devices/${sim.devices[0]}`, undefined, adminToken);
    assert.equal(device.status, 200);
    assert.match(device.body, /"online":true/);
  } finally {
    await sim.stop();
  }
});
