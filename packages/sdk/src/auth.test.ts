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
