import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WS, { WebSocketServer } from 'ws';
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

/** A small real HTTP server that answers each path with what `routes` says and records requests. */
async function stub(
  t: { after(fn: () => unknown): void },
  routes: Record<string, { status: number; type?: string; body: string }>,
): Promise<{ url: string; seen: Array<{ method: string; url: string; authorization?: string; body: string }> }> {
  const seen: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      });
      const route = routes[req.url ?? ''] ?? {
        status: 404,
        body: JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }),
      };
      res.statusCode = route.status;
      res.setHeader('content-type', route.type ?? 'application/json');
      res.end(route.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('refresh sends the refresh token and keeps the new access token; logout sends the refresh token to revoke', async (t) => {
  const session = (token: string) =>
    JSON.stringify({ token, refreshToken: `flr_${token}`, expiresIn: 900, user: { username: 'ada' } });
  const { url, seen } = await stub(t, {
    '/api/v1/auth/refresh': { status: 200, body: session('jwt-2') },
    '/api/v1/auth/logout': { status: 204, body: '' },
    '/api/v1/auth/me': {
      status: 200,
      body: JSON.stringify({ user: { username: 'ada' }, actor: 'user:ada', role: 'admin' }),
    },
    '/api/v1/enrollment-tokens': {
      status: 201,
      body: JSON.stringify({ id: 'e1', token: 'fle_x', labels: { type: 'xle' } }),
    },
  });
  const client = new FlotillaClient({ baseUrl: url, token: 'jwt-1' });
  const result = await client.refresh('flr_1');
  assert.equal(result.refreshToken, 'flr_jwt-2');
  assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { refreshToken: 'flr_1' });
  assert.equal((await client.me()).actor, 'user:ada');
  assert.equal(seen[1]?.authorization, 'Bearer jwt-2', 'calls after refresh() send the new access token');
  await client.logout('flr_jwt-2');
  assert.deepEqual(JSON.parse(seen[2]?.body ?? ''), { refreshToken: 'flr_jwt-2' });
  const created = await client.createEnrollmentToken({ uses: 3, expiresIn: 3600, labels: { type: 'xle' } });
  assert.equal(created.token, 'fle_x');
  assert.deepEqual(JSON.parse(seen[3]?.body ?? ''), { uses: 3, expiresIn: 3600, labels: { type: 'xle' } });
});

test('tlsCa: null on 404, the PEM as text or JSON, and bad_response for anything else', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  const off = await stub(t, {});
  assert.equal(await new FlotillaClient({ baseUrl: off.url }).tlsCa(), null);
  const text = await stub(t, { '/api/v1/tls/ca': { status: 200, type: 'application/x-pem-file', body: pem } });
  assert.equal(await new FlotillaClient({ baseUrl: text.url }).tlsCa(), `${pem}\n`);
  const json = await stub(t, { '/api/v1/tls/ca': { status: 200, body: JSON.stringify({ pem: `${pem}\n` }) } });
  assert.equal(await new FlotillaClient({ baseUrl: json.url }).tlsCa(), `${pem}\n`);
  const junk = await stub(t, { '/api/v1/tls/ca': { status: 200, type: 'text/html', body: '<html>hello</html>' } });
  await assert.rejects(new FlotillaClient({ baseUrl: junk.url }).tlsCa(), { code: 'bad_response' });
});
