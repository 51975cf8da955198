import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientCloseCodes } from '../client-ws/endpoint.js';
import { TestSocket } from '../client-ws/test-client.js';
import { startHub, type RunningHub } from '../hub.js';

/**
 * `/ws/client` checks its token once, at the upgrade; these tests prove a revocation still
 * reaches the open connection: over real sockets, through the real routes.
 */
const ADMIN_PASSWORD = 'live-revocation-admin';
let hub: RunningHub;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flotilla-revocation-'));
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir,
    logLevel: 'silent',
    adminPassword: ADMIN_PASSWORD,
  });
});
after(async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${hub.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

/** A subscribed live connection and a promise of its close code. */
async function live(token: string): Promise<{ socket: TestSocket; closed: Promise<number> }> {
  const socket = await TestSocket.connect(
    `${hub.url.replace(/^http/, 'ws')}/ws/client?access_token=${encodeURIComponent(token)}`,
  );
  const closed = new Promise<number>((resolve) => socket.ws.once('close', (code) => resolve(code)));
  socket.send({ type: 'subscribe', id: 's', subjects: ['flotilla.*.status'] });
  await socket.next((f) => f['type'] === 'subscribed');
  return { socket, closed };
}

async function newUser(admin: string, username: string, role: string): Promise<{ id: string; token: string }> {
  const res = await call('POST', '/api/v1/users', admin, { username, password: `${username}-password`, role });
  assert.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  return { id, token: await login(username, `${username}-password`) };
}

describe('live connections end with their access', () => {
  test('revoking an API token closes the connections opened with it, and only those', async () => {
    const admin = await login('admin', ADMIN_PASSWORD);
    const created = await call('POST', '/api/v1/tokens', admin, { name: 'dashboard', role: 'viewer' });
    assert.equal(created.status, 201);
    const { id, token } = (await created.json()) as { id: string; token: string };
    const viaToken = await live(token);
    const viaLogin = await live(admin);

    assert.equal((await call('DELETE', `/api/v1/tokens/${id}`, admin)).status, 204);
    const farewell = await viaToken.socket.next((f) => f['type'] === 'error');
    assert.deepEqual((farewell['error'] as { code: string }).code, 'revoked_token');
    assert.equal(await viaToken.closed, ClientCloseCodes.ACCESS_REVOKED);

    viaLogin.socket.send({ type: 'ping', id: 'still-there' });
    assert.equal((await viaLogin.socket.next((f) => f['type'] === 'pong'))['id'], 'still-there');
    await viaLogin.socket.close();
  });

  test('logout closes the connection opened with that access token; a new login connects again', async () => {
    const user = await newUser(await login('admin', ADMIN_PASSWORD), 'leaving', 'operator');
    const connection = await live(user.token);
    assert.equal((await call('POST', '/api/v1/auth/logout', user.token, {})).status, 204);
    assert.equal(await connection.closed, ClientCloseCodes.ACCESS_REVOKED);
    const again = await live(await login('leaving', 'leaving-password'));
    await again.socket.close();
  });

  test('disabling, demoting or deleting a user closes their connections; others stay', async () => {
    const admin = await login('admin', ADMIN_PASSWORD);
    const disabled = await newUser(admin, 'to-disable', 'viewer');
    const demoted = await newUser(admin, 'to-demote', 'operator');
    const deleted = await newUser(admin, 'to-delete', 'viewer');
    const bystander = await newUser(admin, 'bystander', 'viewer');
    const [a, b, c, d] = await Promise.all([
      live(disabled.token),
      live(demoted.token),
      live(deleted.token),
      live(bystander.token),
    ]);

    assert.equal((await call('PATCH', `/api/v1/users/${disabled.id}`, admin, { disabled: true })).status, 200);
    assert.equal((await call('PATCH', `/api/v1/users/${demoted.id}`, admin, { role: 'viewer' })).status, 200);
    assert.equal((await call('DELETE', `/api/v1/users/${deleted.id}`, admin)).status, 204);
    assert.deepEqual(await Promise.all([a.closed, b.closed, c.closed]), [
      ClientCloseCodes.ACCESS_REVOKED,
      ClientCloseCodes.ACCESS_REVOKED,
      ClientCloseCodes.ACCESS_REVOKED,
    ]);

    // The disabled user cannot come back; the demoted one can, with a viewer's rights.
    const refused = await fetch(`${hub.url}/api/v1/devices`, {
      headers: { authorization: `Bearer ${disabled.token}` },
    });
    assert.equal(refused.status, 401);
    const back = await live(await login('to-demote', 'to-demote-password'));
    await back.socket.close();

    d.socket.send({ type: 'ping', id: 'p' });
    assert.equal((await d.socket.next((f) => f['type'] === 'pong'))['id'], 'p');
    await d.socket.close();
  });
});
