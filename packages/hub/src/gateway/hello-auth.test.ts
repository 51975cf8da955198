import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message } from '@flotilla/protocol';
import { SECURITY_EVENTS_METRIC } from '../enrollment/security.js';
import { AgentCloseCodes } from './session.js';
import { TestDevice, eventually, startGatewayHarness, type GatewayHarness } from './testing.js';

/**
 * The gateway's hello authentication over real sockets, with the enrollment service on real
 * storage and no HTTP: the transport side of docs/enrollment.md.
 */

let h: GatewayHarness;
const system = { actor: 'system', correlationId: null, causationId: null };

before(async () => {
  h = await startGatewayHarness({ deviceAuth: true });
});
after(async () => {
  await h.close();
});

async function refusal(id: string, token?: string): Promise<[string, number]> {
  const device = await TestDevice.connect(h.url, id);
  device.send('hello', token === undefined ? {} : { token });
  const error = await device.next('error');
  return [(error.payload as { code: string }).code, (await device.closed).code];
}

const credentialOf = (welcome: Message): string | undefined => (welcome.payload as { credential?: string }).credential;

async function count(kind: string): Promise<number> {
  const metric = await h.metrics.registry.getSingleMetric(SECURITY_EVENTS_METRIC)?.get();
  return metric?.values.find((v) => v.labels['kind'] === kind)?.value ?? 0;
}

test('enrolls with a token, then accepts the credential only', async () => {
  const { token } = await h.enrollment.createToken({ uses: 1, labels: { site: 'lab' } }, system);
  const first = await TestDevice.online(h.url, 'gw-1', { token });
  const credential = credentialOf(first.welcome);
  assert.match(String(credential), /^fld_/);
  assert.deepEqual(h.registry.get('gw-1')?.labels, { site: 'lab' });
  await first.device.close();
  const again = await TestDevice.online(h.url, 'gw-1', { token: String(credential) });
  assert.equal(credentialOf(again.welcome), undefined);
  await again.device.close();
  // An enrolled id cannot be taken over with an enrollment token; another id finds it used up.
  assert.deepEqual(await refusal('gw-1', token), ['unauthorized', AgentCloseCodes.UNAUTHORIZED]);
  assert.deepEqual(await refusal('gw-2', token), ['enrollment_exhausted', AgentCloseCodes.UNAUTHORIZED]);
});

test('refusals close the socket, are counted, and leave no device behind', async () => {
  const before = await count('unauthorized');
  assert.deepEqual(await refusal('gw-anon'), ['unauthorized', AgentCloseCodes.UNAUTHORIZED]);
  assert.deepEqual(await refusal('gw-anon', 'fld_nope'), ['unauthorized', AgentCloseCodes.UNAUTHORIZED]);
  assert.equal(await count('unauthorized'), before + 2);
  assert.equal(h.registry.get('gw-anon'), undefined);
});

test('a session still proving who it is cannot send frames nor replace the real device', async () => {
  const { token } = await h.enrollment.createToken({}, system);
  const owner = await TestDevice.online(h.url, 'gw-owner', { token });
  const impostor = await TestDevice.connect(h.url, 'gw-owner');
  impostor.send('hello', { token: 'fld_guess' });
  impostor.send('telemetry', { metrics: { cpu: 99 } });
  const codes = [await impostor.next('error'), await impostor.next('error')].map(
    (e) => (e.payload as { code: string }).code,
  );
  assert.ok(codes.includes('unauthorized'), codes.join());
  await impostor.closed;
  owner.device.send('heartbeat', {});
  await owner.device.next('ack');
  assert.equal(h.gateway.session('gw-owner')?.state, 'active');
  assert.equal(h.registry.get('gw-owner')?.resources.cpu, undefined);
  await owner.device.close();
});

test('revocation cuts the live session at once', async () => {
  const { token } = await h.enrollment.createToken({}, system);
  const { device } = await TestDevice.online(h.url, 'gw-revoked', { token });
  assert.equal(await h.enrollment.revokeCredential('gw-revoked', system), true);
  const error = await device.next('error', 1000);
  assert.equal((error.payload as { code: string }).code, 'credential_revoked');
  assert.equal((await device.closed).code, AgentCloseCodes.CREDENTIAL_REVOKED);
  await eventually(() => h.registry.get('gw-revoked')?.status.online === false, 'offline');
});

test('speaking for another device is refused and counted each time, recorded once per session', async () => {
  const { token } = await h.enrollment.createToken({}, system);
  const { device } = await TestDevice.online(h.url, 'gw-liar', { token });
  const before = await count('device_mismatch');
  for (let i = 0; i < 3; i++) {
    device.send('telemetry', { metrics: { cpu: 1 } }, 'gw-owner');
    assert.equal(((await device.next('error')).payload as { code: string }).code, 'device_mismatch');
  }
  assert.equal(await count('device_mismatch'), before + 3);
  await eventually(
    async () =>
      (await h.storage.readEvents({ aggregateId: 'gw-liar', types: ['DeviceMismatch'], limit: 10 })).length > 0,
    'the DeviceMismatch event',
  );
  const events = await h.storage.readEvents({ aggregateId: 'gw-liar', types: ['DeviceMismatch'], limit: 10 });
  assert.equal(events.length, 1);
  assert.equal(events[0]?.data['claimed'], 'gw-owner');
  await device.close();
});
