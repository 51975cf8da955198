import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Device, Message, StoredEvent } from '@flotilla/protocol';
import { eventually, TestDevice } from '../gateway/testing.js';
import { AgentCloseCodes } from '../gateway/session.js';
import { json, openTestHub, type TestHub } from '../http/testing.js';
import { SECURITY_EVENTS_METRIC } from './security.js';

/**
 * Device enrollment end to end: the REST API creates and revokes tokens and credentials, devices
 * enroll over real `/ws/agent` sockets, refusals close the connection with their code.
 */

let hub: TestHub;
let agentUrl: string;

before(async () => {
  hub = await openTestHub('sqlite', { heartbeatIntervalMs: 1000 });
  await hub.app.listen({ host: '127.0.0.1', port: 0 });
  const address = hub.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  agentUrl = `ws://127.0.0.1:${port}/ws/agent`;
});
after(async () => {
  await hub.dispose();
});

interface CreatedToken {
  id: string;
  token: string;
  uses: number | null;
  expiresAt: number | null;
  labels: Record<string, string>;
}

async function createToken(body: Record<string, unknown>): Promise<CreatedToken> {
  const res = await hub.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return json<CreatedToken>(res);
}

/** Says hello with `token` and expects a refusal: the error frame's code and the close. */
async function refused(id: string, token: string | undefined): Promise<{ code: string; close: number }> {
  const device = await TestDevice.connect(agentUrl, id);
  device.send('hello', token === undefined ? {} : { token });
  const error = await device.next('error');
  const { code } = await device.closed;
  return { code: (error.payload as { code: string }).code, close: code };
}

function credentialOf(welcome: Message): string | undefined {
  return (welcome.payload as { credential?: string }).credential;
}

async function securityCount(kind: string): Promise<number> {
  const metric = await hub.metrics.registry.getSingleMetric(SECURITY_EVENTS_METRIC)?.get();
  return metric?.values.find((v) => v.labels['kind'] === kind)?.value ?? 0;
}

async function eventsOf(aggregate: string): Promise<StoredEvent[]> {
  await hub.registry.settled();
  return hub.storage.readEvents({ aggregateId: aggregate, limit: 1000 });
}

describe('enrollment tokens', () => {
  test('are created with the DESIGN contract, listed without secrets, and never logged in events', async () => {
    const created = await createToken({ uses: 3, expiresIn: 3600, labels: { site: 'lab' } });
    assert.match(created.token, /^fle_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.uses, 3);
    assert.equal(created.expiresAt, hub.clock.now() + 3600_000);
    assert.deepEqual(created.labels, { site: 'lab' });

    const list = await hub.inject({ method: 'GET', url: '/api/v1/enrollment-tokens' });
    assert.equal(list.statusCode, 200);
    const listed = json<{ items: Record<string, unknown>[] }>(list).items.find((t) => t['id'] === created.id);
    const events = await eventsOf(created.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['EnrollmentTokenCreated'],
    );
    const { token: _secret, ...shown } = created;
    const actor = events[0]?.metadata.actor;
    assert.deepEqual(listed, { ...shown, used: 0, createdBy: actor, created: hub.clock.now(), revokedAt: null });
    assert.ok(!list.body.includes(created.token));
    assert.ok(!JSON.stringify(events).includes(created.token), 'the token never reaches the event log');
  });

  test('bad bodies are refused with 400', async () => {
    for (const payload of [{ uses: 0 }, { expiresIn: -1 }, { labels: { 'bad key!': 'x' } }, { extra: true }]) {
      const res = await hub.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
    }
  });

  test('a multi-use token enrolls devices with its labels; each gets its own credential, once', async () => {
    const { token } = await createToken({ uses: 2, labels: { site: 'lab', fleet: 'kiwi' } });
    const first = await TestDevice.online(agentUrl, 'multi-1', { token, labels: { own: 'yes' } });
    const second = await TestDevice.online(agentUrl, 'multi-2', { token });
    const c1 = credentialOf(first.welcome);
    const c2 = credentialOf(second.welcome);
    assert.match(String(c1), /^fld_/);
    assert.match(String(c2), /^fld_/);
    assert.notEqual(c1, c2);
    assert.deepEqual(hub.registry.get('multi-1')?.labels, { own: 'yes', site: 'lab', fleet: 'kiwi' });
    assert.deepEqual(hub.registry.get('multi-2')?.labels, { site: 'lab', fleet: 'kiwi' });
    // Written with the connection, before it: nobody sees the device online without its labels.
    const order = (await eventsOf('multi-2'))
      .filter((e) => e.type.startsWith('Device') && e.type !== 'DeviceEnrolled')
      .map((e) => [e.type, e.metadata.actor, e.data['labels'] ?? null]);
    assert.deepEqual(order.slice(0, 3), [
      ['DeviceRegistered', 'device:multi-2', {}],
      ['DeviceUpdated', 'system', { site: 'lab', fleet: 'kiwi' }],
      ['DeviceConnected', 'device:multi-2', null],
    ]);

    // Used up: a third device is refused, and closed.
    assert.deepEqual(await refused('multi-3', token), {
      code: 'enrollment_exhausted',
      close: AgentCloseCodes.UNAUTHORIZED,
    });
    assert.equal(hub.registry.get('multi-3'), undefined, 'a refused device is not registered');

    // The credential is what the device presents from now on; the welcome does not repeat it.
    await first.device.close();
    const again = await TestDevice.online(agentUrl, 'multi-1', { token: String(c1) });
    assert.equal(credentialOf(again.welcome), undefined);
    await again.device.close();
    await second.device.close();

    const enrolled = (await eventsOf('multi-1')).find((e) => e.type === 'DeviceEnrolled');
    assert.ok(enrolled);
    assert.equal(enrolled.metadata.actor, 'device:multi-1');
    assert.ok(
      !JSON.stringify(await eventsOf('multi-1')).includes(String(c1)),
      'the credential never reaches the event log',
    );
  });

  test('an expired token is refused with enrollment_expired', async () => {
    const { token } = await createToken({ expiresIn: 60 });
    hub.clock.advance(60_000);
    const before = await securityCount('enrollment_expired');
    assert.deepEqual(await refused('late-1', token), {
      code: 'enrollment_expired',
      close: AgentCloseCodes.UNAUTHORIZED,
    });
    assert.equal(await securityCount('enrollment_expired'), before + 1);
    const failed = (await eventsOf('late-1')).find((e) => e.type === 'DeviceAuthFailed');
    assert.deepEqual(failed?.data, {
      reason: 'enrollment_expired',
      transport: 'ws',
      sessionId: failed?.metadata.correlationId,
    });
    assert.ok(!JSON.stringify(failed).includes(token));
  });

  test('no token, an unknown one, or a revoked one is unauthorized', async () => {
    assert.equal((await refused('anon-1', undefined)).code, 'unauthorized');
    assert.equal((await refused('anon-1', 'fle_not-a-real-token')).code, 'unauthorized');
    assert.equal((await refused('anon-1', 'fld_guess')).code, 'unauthorized');
    const { id, token } = await createToken({});
    const res = await hub.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${id}` });
    assert.equal(res.statusCode, 204);
    assert.equal((await refused('anon-1', token)).code, 'unauthorized');
    const again = await hub.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${id}` });
    assert.equal(json<{ error: { code: string } }>(again).error.code, 'enrollment_token_not_found');
    assert.equal(hub.registry.get('anon-1'), undefined);
  });

  test('an enrollment token cannot take over an enrolled device id', async () => {
    const { token } = await createToken({});
    const owner = await TestDevice.online(agentUrl, 'owned-1', { token });
    assert.deepEqual(await refused('owned-1', token), { code: 'unauthorized', close: AgentCloseCodes.UNAUTHORIZED });
    // The real device's session was not disturbed by the attempt.
    owner.device.send('heartbeat', {});
    await owner.device.next('ack');
    assert.equal(hub.registry.get('owned-1')?.status.online, true);
    await owner.device.close();
  });
});

describe('device identity on the wire', () => {
  test('a device cannot speak for another: refused, counted and recorded', async () => {
    const { token } = await createToken({});
    const { device } = await TestDevice.online(agentUrl, 'honest-1', { token });
    await TestDevice.online(agentUrl, 'victim-1', { token }).then(({ device: victim }) => victim.close());
    const before = await securityCount('device_mismatch');
    device.send('telemetry', { metrics: { cpu: 99 } }, 'victim-1');
    const error = await device.next('error');
    assert.equal((error.payload as { code: string }).code, 'device_mismatch');
    assert.equal(await securityCount('device_mismatch'), before + 1);
    await eventually(
      async () => (await eventsOf('honest-1')).some((e) => e.type === 'DeviceMismatch'),
      'a DeviceMismatch event',
    );
    const event = (await eventsOf('honest-1')).find((e) => e.type === 'DeviceMismatch');
    assert.equal(event?.data['claimed'], 'victim-1');
    assert.equal(hub.registry.get('victim-1')?.resources.cpu, undefined, 'nothing reached the victim');
    await device.close();
  });

  test('a revoked device is cut off within 1 s and refused after, until it enrolls again', async () => {
    const { token } = await createToken({});
    const { device, welcome } = await TestDevice.online(agentUrl, 'revoked-1', { token });
    const credential = String(credentialOf(welcome));

    const started = Date.now();
    const res = await hub.inject({ method: 'DELETE', url: '/api/v1/devices/revoked-1/credential' });
    assert.equal(res.statusCode, 204);
    const error = await device.next('error', 1000);
    assert.equal((error.payload as { code: string }).code, 'credential_revoked');
    const closed = await Promise.race([
      device.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed within 1 s')), 1000)),
    ]);
    assert.equal(closed.code, AgentCloseCodes.CREDENTIAL_REVOKED);
    assert.ok(Date.now() - started < 1000);
    await eventually(() => hub.registry.get('revoked-1')?.status.online === false, 'the device offline');

    assert.deepEqual(await refused('revoked-1', credential), {
      code: 'credential_revoked',
      close: AgentCloseCodes.UNAUTHORIZED,
    });
    const again = await hub.inject({ method: 'DELETE', url: '/api/v1/devices/revoked-1/credential' });
    assert.equal(again.statusCode, 404);
    assert.equal(json<{ error: { code: string } }>(again).error.code, 'credential_not_found');

    // Revocation is also how a device may enroll again (a replaced board, a wiped disk).
    const back = await TestDevice.online(agentUrl, 'revoked-1', { token });
    assert.notEqual(credentialOf(back.welcome), credential);
    await back.device.close();

    const types = (await eventsOf('revoked-1')).map((e: StoredEvent) => e.type);
    assert.ok(types.includes('DeviceCredentialRevoked'));
    const disconnected = (await eventsOf('revoked-1')).find((e) => e.type === 'DeviceDisconnected');
    assert.equal(disconnected?.data['reason'], 'credential_revoked');
  });

  test('a decommissioned device loses its credential and must enroll again', async () => {
    const { token } = await createToken({});
    const { device, welcome } = await TestDevice.online(agentUrl, 'retired-1', { token });
    const res = await hub.inject({ method: 'DELETE', url: '/api/v1/devices/retired-1' });
    assert.equal(res.statusCode, 204);
    await device.closed;
    await eventually(
      async () => (await eventsOf('retired-1')).some((e) => e.type === 'DeviceCredentialRevoked'),
      'the credential revoked',
    );
    assert.equal((await refused('retired-1', String(credentialOf(welcome)))).code, 'credential_revoked');
    assert.equal(hub.registry.get('retired-1'), undefined);
  });

  test('devices listed by the API are the enrolled ones only', async () => {
    const res = await hub.inject({ method: 'GET', url: '/api/v1/devices?limit=1000' });
    const ids = json<{ items: Device[] }>(res).items.map((d) => d.id);
    for (const id of ['multi-3', 'late-1', 'anon-1']) assert.ok(!ids.includes(id), id);
  });
});

describe('who may manage enrollment', () => {
  test('only admins: other roles get 403 whatever they send, anonymous callers 401', async () => {
    for (const role of ['engineer', 'operator', 'viewer'] as const) {
      const token = await hub.tokenFor(role);
      const headers = { authorization: `Bearer ${token}` };
      const post = await hub.inject({
        method: 'POST',
        url: '/api/v1/enrollment-tokens',
        payload: { uses: -5 },
        headers,
      });
      assert.equal(post.statusCode, 403, role);
      const revoke = await hub.inject({ method: 'DELETE', url: '/api/v1/devices/x/credential', headers });
      assert.equal(revoke.statusCode, 403, role);
    }
    const anonymous = await hub.app.inject({ method: 'GET', url: '/api/v1/enrollment-tokens' });
    assert.equal(anonymous.statusCode, 401);
  });

  test('the creator is recorded as the actor', async () => {
    const created = await createToken({ uses: 1 });
    const [event] = await eventsOf(created.id);
    assert.equal(event?.metadata.actor, 'user:admin');
  });
});
