import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import type { StoredEvent } from '@flotilla/protocol';
import { json, openTestHub, TEST_ADMIN_PASSWORD, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { registerAuth, RouteAuthError } from './plugin.js';

/** Login, tokens, the 401/403 codes and the audit trail, through the real app on SQLite. */
describe('identity and access', () => {
  let hub: TestHub;
  before(async () => {
    hub = await openTestHub('sqlite');
  });
  after(() => hub?.dispose());

  async function login(username: string, password: string) {
    return hub.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  }
  const code = (res: { body: string }): string => json<ErrorBodyJson>(res).error.code;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  let viewerToken = '';

  test('passwords hash with argon2id or scrypt and verify with either', async () => {
    for (const algorithm of ['argon2id', 'scrypt'] as const) {
      const encoded = await hashPassword('correct horse', algorithm);
      assert.match(encoded, new RegExp(`^\\$${algorithm}\\$`));
      assert.equal(await verifyPassword('correct horse', encoded), true);
      assert.equal(await verifyPassword('wrong horse', encoded), false);
    }
    assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  });

  test('each way a token can be wrong has its own 401 code; a role without the permission gets 403', async () => {
    assert.equal(code(await hub.app.inject({ url: '/api/v1/devices' })), 'missing_token');
    const malformed = await hub.app.inject({ url: '/api/v1/devices', headers: { authorization: 'Basic abc' } });
    assert.equal(malformed.statusCode, 401);
    assert.equal(code(malformed), 'malformed_token');
    assert.equal(
      code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer('nonsense') })),
      'malformed_token',
    );
    const [h, p, s] = hub.adminToken.split('.');
    const tampered = `${h}.${p}.${s === 'A' ? 'B' : 'A'}${s?.slice(1)}`;
    assert.equal(code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer(tampered) })), 'invalid_token');
    assert.equal(
      code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer('flt_unknown') })),
      'invalid_token',
    );

    const viewer = await hub.tokenFor('viewer');
    assert.equal((await hub.app.inject({ url: '/api/v1/devices', headers: bearer(viewer) })).statusCode, 200);
    // 403 before the body is validated: the caller learns nothing from the schema.
    const patch = await hub.app.inject({
      method: 'PATCH',
      url: '/api/v1/devices/x',
      headers: bearer(viewer),
      payload: { nonsense: true },
    });
    assert.equal(patch.statusCode, 403);
    assert.equal(code(patch), 'forbidden');

    viewerToken = viewer;
  });

  test('login, refresh rotation, logout; every step in the audit trail without secrets', async () => {
    const wrong = await login('admin', 'not the password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(code(wrong), 'invalid_credentials');
    const ok = await login('admin', TEST_ADMIN_PASSWORD);
    assert.equal(ok.statusCode, 200);
    const session = json<{ token: string; refreshToken: string; expiresIn: number; user: { username: string } }>(ok);
    assert.equal(session.expiresIn, 900);
    assert.equal(session.user.username, 'admin');
    const me = await hub.app.inject({ url: '/api/v1/auth/me', headers: bearer(session.token) });
    assert.equal(json<{ actor: string }>(me).actor, 'user:admin');

    const refreshed = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: session.refreshToken },
    });
    assert.equal(refreshed.statusCode, 200);
    const next = json<{ token: string; refreshToken: string }>(refreshed);
    // A refresh token is used up: presenting it again is a replay, which revokes the whole family.
    const replay = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: session.refreshToken },
    });
    assert.equal(code(replay), 'revoked_token');
    const family = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: next.refreshToken },
    });
    assert.equal(code(family), 'revoked_token');

    const out = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(next.token),
      payload: {},
    });
    assert.equal(out.statusCode, 204);
    assert.equal(code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer(next.token) })), 'revoked_token');

    const events = await hub.storage.readEvents({ limit: 1000, actor: 'user:admin' });
    const types = new Set(events.map((e: StoredEvent) => e.type));
    for (const type of ['LoginSucceeded', 'LoggedOut']) assert.ok(types.has(type), type);
    const failed = await hub.storage.readEvents({ limit: 1000, types: ['LoginFailed'] });
    assert.ok(failed.some((e) => e.data['username'] === 'admin'));
    const everything = JSON.stringify(await hub.storage.readEvents({ limit: 10_000 }));
    for (const secret of [TEST_ADMIN_PASSWORD, 'not the password', session.refreshToken, session.token]) {
      assert.ok(!everything.includes(secret), 'no secret in the event log');
    }
  });

  test('users CRUD and API tokens: role at most the creator’s, shown once, revocable', async () => {
    const created = await hub.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'olga', password: 'olga-password', role: 'operator' },
    });
    assert.equal(created.statusCode, 201);
    const olga = json<{ id: string }>(created);
    assert.equal(
      code(
        await hub.inject({
          method: 'POST',
          url: '/api/v1/users',
          payload: { username: 'olga', password: 'another-pass', role: 'viewer' },
        }),
      ),
      'username_taken',
    );
    const olgaToken = json<{ token: string }>(await login('olga', 'olga-password')).token;
    assert.equal(code(await hub.app.inject({ url: '/api/v1/users', headers: bearer(olgaToken) })), 'forbidden');

    const tooHigh = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: bearer(olgaToken),
      payload: { name: 'ci', role: 'admin' },
    });
    assert.equal(code(tooHigh), 'forbidden');
    const made = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: bearer(olgaToken),
      payload: { name: 'ci', role: 'viewer', expiresIn: 3600 },
    });
    assert.equal(made.statusCode, 201);
    const apiToken = json<{ id: string; token: string }>(made);
    assert.match(apiToken.token, /^flt_/);
    const me = json<{ actor: string; role: string; permissions: string[] }>(
      await hub.app.inject({ url: '/api/v1/auth/me', headers: bearer(apiToken.token) }),
    );
    assert.deepEqual([me.actor, me.role], [`token:${apiToken.id}`, 'viewer']);
    // The token's role, not its owner's, decides what a console offers.
    assert.ok(me.permissions.includes('devices:read'));
    assert.ok(!me.permissions.includes('commands:send'));
    const listed = await hub.app.inject({ url: '/api/v1/tokens', headers: bearer(olgaToken) });
    assert.ok(!listed.body.includes(apiToken.token), 'listing never shows the secret');
    assert.equal(json<unknown[]>(listed).length, 1);

    const revoked = await hub.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${apiToken.id}`,
      headers: bearer(olgaToken),
    });
    assert.equal(revoked.statusCode, 204);
    assert.equal(
      code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer(apiToken.token) })),
      'revoked_token',
    );

    const disabled = await hub.inject({
      method: 'PATCH',
      url: `/api/v1/users/${olga.id}`,
      payload: { disabled: true },
    });
    assert.equal(disabled.statusCode, 200);
    assert.equal(code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer(olgaToken) })), 'invalid_token');
    assert.equal((await hub.inject({ method: 'DELETE', url: `/api/v1/users/${olga.id}` })).statusCode, 204);
    assert.equal(code(await hub.inject({ url: `/api/v1/users/${olga.id}` })), 'user_not_found');
    const audit = await hub.storage.readEvents({
      limit: 1000,
      actor: 'user:admin',
      types: ['UserCreated', 'UserUpdated', 'UserDeleted'],
    });
    assert.deepEqual(
      audit.map((e) => e.type),
      ['UserCreated', 'UserUpdated', 'UserDeleted'],
    );
  });

  test('repeated failed logins lock that username out with a growing Retry-After; other users are unaffected', async () => {
    await hub.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'victim', password: 'victim-password', role: 'viewer' },
    });
    for (let i = 0; i < 5; i++) assert.equal(code(await login('victim', `guess-${i}`)), 'invalid_credentials');
    const locked = await login('victim', 'victim-password');
    assert.equal(locked.statusCode, 429);
    assert.equal(code(locked), 'too_many_attempts');
    assert.equal(locked.headers['retry-after'], '1');
    assert.equal((await login('admin', TEST_ADMIN_PASSWORD)).statusCode, 200, 'another user logs in');
    hub.clock.advance(1000);
    assert.equal(code(await login('victim', 'guess-again')), 'invalid_credentials');
    assert.equal((await login('victim', 'victim-password')).headers['retry-after'], '2');
    hub.clock.advance(2000);
    assert.equal((await login('victim', 'victim-password')).statusCode, 200);
    const metrics = await hub.inject({ url: '/metrics' });
    assert.match(metrics.body, /flotilla_login_failures_total\{reason="credentials"\} [1-9]/);
  });

  test('an API token that loops without pause gets 429 rate_limited with Retry-After; other callers are unaffected', async () => {
    const mint = async (name: string): Promise<string> =>
      json<{ token: string }>(
        await hub.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name, role: 'viewer' } }),
      ).token;
    const looping = await mint('looping-script');
    const polite = await mint('polite-script');
    const list = (token: string) => hub.app.inject({ url: '/api/v1/devices', headers: bearer(token) });

    // The clock stands still: the burst (200) passes, the next request is refused.
    for (let i = 0; i < 200; i++) assert.equal((await list(looping)).statusCode, 200, `request ${i}`);
    const refused = await list(looping);
    assert.equal(refused.statusCode, 429);
    assert.equal(code(refused), 'rate_limited');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal((await list(polite)).statusCode, 200, 'another token');
    assert.equal((await hub.inject({ url: '/api/v1/devices' })).statusCode, 200, 'a login session');

    // 50 requests/s: 20 ms buys one more.
    hub.clock.advance(20);
    assert.equal((await list(looping)).statusCode, 200);
    assert.equal((await list(looping)).statusCode, 429);
    const metrics = await hub.inject({ url: '/metrics' });
    assert.match(metrics.body, /code="rate_limited"\} 2/);
  });

  // Last: it moves the hub's clock past every access token's expiry.
  test('an access token expires after 15 minutes', async () => {
    hub.clock.advance(16 * 60_000);
    assert.equal(code(await hub.app.inject({ url: '/api/v1/devices', headers: bearer(viewerToken) })), 'expired_token');
  });
});

test('a route that declares neither a permission nor public cannot be registered', async () => {
  const app = Fastify();
  registerAuth(app, { identity: undefined as never });
  assert.throws(() => app.get('/forgotten', async () => 'hi'), RouteAuthError);
  await app.close();
});
