import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { json, openTestHub, TEST_ADMIN_PASSWORD } from '../http/testing.js';

/**
 * Passwords, access tokens, refresh tokens and API tokens never reach the logs (at trace level),
 * error bodies, events or any response but the one that creates them.
 */
test('secrets appear in no log line, error body, event or later response', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const hub = await openTestHub('sqlite', { logger: pino({ level: 'trace' }, sink) });
  try {
    const bodies: string[] = [];
    const send = async (options: InjectOptions) => {
      const res = await hub.app.inject(options);
      bodies.push(res.body);
      return res;
    };
    await send({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'wrong-password-1' },
    });
    // The one response allowed to hold the new secrets is the one that creates them.
    const login = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: TEST_ADMIN_PASSWORD },
    });
    const session = json<{ token: string; refreshToken: string }>(login);
    const auth = { authorization: `Bearer ${session.token}` };
    const created = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: auth,
      payload: { name: 'ci' },
    });
    const apiToken = json<{ token: string }>(created).token;
    await send({ url: '/api/v1/tokens', headers: auth });
    await send({ url: `/ws/client?access_token=${session.token}` });
    await send({ url: '/api/v1/devices', headers: { authorization: `Bearer ${apiToken}x` } });
    await send({ url: '/api/v1/devices', headers: { authorization: `Bearer ${session.token}x` } });
    await send({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: `${session.refreshToken}x` } });
    await send({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } });
    await send({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { username: 'eve', password: 'eve-secret-password', role: 'viewer' },
    });
    await send({ url: '/api/v1/events?limit=1000', headers: { authorization: `Bearer ${apiToken}` } });

    const events = JSON.stringify(await hub.storage.readEvents({ limit: 10_000 }));
    const logs = lines.join('');
    assert.ok(logs.includes('login failed'), 'the failed login is logged');
    const secrets = [
      TEST_ADMIN_PASSWORD,
      'wrong-password-1',
      'eve-secret-password',
      session.token,
      session.refreshToken,
      apiToken,
    ];
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `a log line holds a secret (${secret.slice(0, 6)}…)`);
      assert.ok(!events.includes(secret), `an event holds a secret (${secret.slice(0, 6)}…)`);
      for (const body of bodies)
        assert.ok(!body.includes(secret), `a response holds a secret (${secret.slice(0, 6)}…)`);
    }
  } finally {
    await hub.dispose();
  }
});
