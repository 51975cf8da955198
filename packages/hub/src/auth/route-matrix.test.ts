import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { json, openTestHub, type TestHub } from '../http/testing.js';
import { ROLES, roleAllows, type Role } from './permissions.js';
import { declaredRoutes } from './plugin.js';

/**
 * The acceptance test of authorization: every route Fastify registered × every role (and no
 * token) against permissions.ts. A route added later is walked without anyone listing it here.
 */
let hub: TestHub;
const tokens = new Map<Role, string>();

before(async () => {
  hub = await openTestHub('sqlite');
  for (const role of ROLES) {
    // API tokens: logging out with one revokes nothing, so the walk can call /auth/logout too.
    const jwt = await hub.tokenFor(role);
    const res = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { authorization: `Bearer ${jwt}` },
      payload: { name: `matrix-${role}` },
    });
    assert.equal(res.statusCode, 201, res.body);
    tokens.set(role, json<{ token: string }>(res).token);
  }
});
after(() => hub?.dispose());

test('every route × every role is allowed or refused exactly as permissions.ts says', async () => {
  const routes = declaredRoutes(hub.app);
  assert.ok(routes.length >= 20, `walked ${routes.length} routes`);
  let checked = 0;
  for (const route of routes) {
    const url = route.url.replace(/:[A-Za-z]+/g, 'matrix-x').replace(/\*$/, '');
    const base: InjectOptions = {
      method: route.method as InjectOptions['method'],
      url,
      ...(['POST', 'PATCH', 'PUT'].includes(route.method) && { payload: {} }),
    };
    const anonymous = await hub.app.inject(base);
    const where = `${route.method} ${route.url}`;
    if (route.public) {
      assert.ok(![401, 403].includes(anonymous.statusCode), `${where} is public: ${anonymous.statusCode}`);
      continue;
    }
    assert.ok(route.permission, where);
    assert.equal(anonymous.statusCode, 401, `${where} without a token`);
    for (const role of ROLES) {
      const res = await hub.app.inject({ ...base, headers: { authorization: `Bearer ${tokens.get(role)}` } });
      if (roleAllows(role, route.permission)) {
        assert.ok(![401, 403].includes(res.statusCode), `${where} as ${role}: ${res.statusCode} ${res.body}`);
      } else {
        assert.equal(res.statusCode, 403, `${where} as ${role}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 0);
});
