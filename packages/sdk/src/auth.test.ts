import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import WS, { WebSocketServer } from 'ws';
import { startHub, type HubOptions, type RunningHub } from '@flotilla/hub';
import { FlotillaClient } from './client.js';
import { LiveClient, type LiveEvent } from './live.js';

/** login() and LiveClient's token against a small real HTTP + WebSocket server. */
test('login keeps the access token for later requests; LiveClient sends its token on the upgrade only', async (t) => {
  const seen: Array<{ url: string; authorization: string | undefined; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/v1/auth/login') {
        res.end(JSON.stringify({ token: 'jwt-1', refreshToken: 'flr_1', expiresIn: 900, user: { username: 'ada' } }));
      } else {
        res.end(JSON.stringify({ status: 'ok', version: '0.1.0', uptime: 1 }));
      }
    });
  });
  const wss = new WebSocketServer({ server });
  const upgrades: string[] = [];
  wss.on('connection', (_socket, req) => upgrades.push(req.url ?? ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.after(() => wss.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const client = new FlotillaClient({ baseUrl: url });
  const result = await client.login('ada', 'ada-password');
  assert.equal(result.token, 'jwt-1');
  assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { username: 'ada', password: 'ada-password' });
  assert.equal(seen[0]?.authorization, undefined);
  await client.health();
  assert.equal(seen[1]?.authorization, 'Bearer jwt-1');

  const live = new LiveClient({ url, token: 'jwt-1', WebSocket: WS as never, pingIntervalMs: 0 });
  const events: LiveEvent[] = [];
  const open = new Promise<void>((resolve) =>
    live.on((e) => {
      events.push(e);
      if (e.type === 'open') resolve();
    }),
  );
  live.subscribe('flotilla.*.status', () => undefined);
  await open;
  live.close();
  assert.deepEqual(upgrades, ['/ws/client?access_token=jwt-1']);
  assert.ok(!JSON.stringify(events).includes('jwt-1'), 'state events never carry the token');
});

/** A hub of our own for a test, on a free port, with a temporary data directory. */
async function hub(t: { after(fn: () => unknown): void }, options: Partial<HubOptions> = {}): Promise<RunningHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-sdk-auth-'));
  const running = await startHub({
    port: 0,
    // Port 1883 belongs to the machine's Mosquitto.
    mqttPort: false,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    adminPassword: PASSWORD,
    ...options,
  });
  t.after(async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return running;
}

const PASSWORD = 'sdk-auth-admin-password';

test('refresh keeps the new access token; logout revokes the session of the refresh token it is given', async (t) => {
  const { url } = await hub(t);
  const client = new FlotillaClient({ baseUrl: url });
  const session = await client.login('admin', PASSWORD);
  const refreshed = await client.refresh(session.refreshToken);
  assert.notEqual(refreshed.token, session.token);
  assert.notEqual(refreshed.refreshToken, session.refreshToken);
  const me = await client.me();
  assert.equal(me.actor, 'user:admin');
  const created = await client.createEnrollmentToken({ uses: 3, expiresIn: 3600, labels: { type: 'xle' } });
  assert.match(created.token, /^fle_/);
  assert.deepEqual(created.labels, { type: 'xle' });
  await client.logout(refreshed.refreshToken);
  await assert.rejects(client.refresh(refreshed.refreshToken), { status: 401 });
  // Logging out ends the session: its access token, the one the client now holds, goes with it.
  await assert.rejects(client.me(), { status: 401, code: 'revoked_token' });
});

test('tlsCa: null from a hub without TLS; the hub CA, as PEM, from a hub with it', async (t) => {
  const plain = await hub(t);
  assert.equal(await new FlotillaClient({ baseUrl: plain.url }).tlsCa(), null);

  const secure = await hub(t, { tls: true });
  assert.match(secure.url, /^https:/);
  const ca = secure.tls?.ca ?? '';
  // This process trusts the hub CA as an operator would with NODE_EXTRA_CA_CERTS.
  setDefaultCACertificates([...getCACertificates('default'), ca]);
  assert.equal(await new FlotillaClient({ baseUrl: secure.url }).tlsCa(), ca.endsWith('\n') ? ca : `${ca}\n`);
});

test('tlsCa: bad_response when something that is not a hub (a proxy, a captive portal) answers', async (t) => {
  // Not a stub of the hub: the outside party a client can meet in front of one.
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<html>hello</html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await assert.rejects(new FlotillaClient({ baseUrl: url }).tlsCa(), { code: 'bad_response' });
});
