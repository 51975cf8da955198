import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type RunningHub } from '@flotilla/hub';
import { FlotillaClient } from './client.js';
import { FlotillaApiError } from './errors.js';

/** Users, API tokens, the HAL schemas, permissions and the telemetry reads, against a real hub. */
const PASSWORD = 'sdk-accounts-password';
let hub: RunningHub;
let dataDir: string;
let admin: FlotillaClient;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flotilla-sdk-accounts-'));
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir,
    adminPassword: PASSWORD,
    logLevel: 'silent',
  });
  admin = new FlotillaClient({ baseUrl: hub.url });
  await admin.login('admin', PASSWORD);
});
after(async () => {
  await hub?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('users are created, changed and deleted; me() names the role and its permissions', async () => {
  const me = await admin.me();
  assert.equal(me.role, 'admin');
  assert.ok(me.permissions.includes('users:manage'));

  const olga = await admin.users.create({ username: 'olga', password: 'olga-password', role: 'viewer' });
  assert.equal(olga.role, 'viewer');
  const olgaClient = new FlotillaClient({ baseUrl: hub.url });
  await olgaClient.login('olga', 'olga-password');
  const olgaMe = await olgaClient.me();
  assert.ok(olgaMe.permissions.includes('devices:read'));
  assert.ok(!olgaMe.permissions.includes('commands:send'));
  await assert.rejects(
    olgaClient.users.list(),
    (err: unknown) => err instanceof FlotillaApiError && err.status === 403,
  );

  assert.equal((await admin.users.update(olga.id, { role: 'operator' })).role, 'operator');
  assert.ok((await admin.users.list()).some((u) => u.username === 'olga'));
  await admin.users.delete(olga.id);
  assert.ok(!(await admin.users.list()).some((u) => u.username === 'olga'));
});

test('an API token is shown once, listed without its secret, works, and is revoked', async () => {
  const created = await admin.tokens.create({ name: 'ci', role: 'viewer', expiresIn: 3600 });
  assert.match(created.token, /^flt_/);
  const listed = await admin.tokens.list();
  assert.ok(listed.some((t) => t.id === created.id && !('token' in t)));
  const ci = new FlotillaClient({ baseUrl: hub.url, token: created.token });
  assert.equal((await ci.me()).role, 'viewer');
  await admin.tokens.revoke(created.id);
  await assert.rejects(ci.me(), (err: unknown) => err instanceof FlotillaApiError && err.status === 401);
});

test('schemas() lists the HAL catalogue with argument schemas', async () => {
  const schemas = await admin.schemas();
  const drive = schemas.find((c) => c.name === 'hal.v1.motor.differential')?.commands['drive'];
  assert.ok(drive, 'drive is in the catalogue');
  assert.deepEqual((drive.args as { required?: string[] }).required, ['left', 'right']);
  assert.equal(schemas.find((c) => c.name === 'hal.v1.estop')?.commands['engage']?.priority, 'critical');
});

test('the telemetry reads answer for a device and the fleet, and refuse an unknown device', async () => {
  const fleet = await admin.fleetTelemetry({ metric: 'battery.soc', bucket: '1m', from: Date.now() - 3600_000 });
  assert.equal(fleet.metric, 'battery.soc');
  assert.equal(fleet.bucketMs, 60_000);
  assert.equal(fleet.devices, 0);
  await assert.rejects(
    admin.latestTelemetry('nobody'),
    (err: unknown) => err instanceof FlotillaApiError && err.code === 'device_not_found',
  );
  await assert.rejects(
    admin.samples('nobody', { name: 'pose' }),
    (err: unknown) => err instanceof FlotillaApiError && err.code === 'device_not_found',
  );
});

const ZERO = { online: 0, offline: 0, alerting: 0 };

test('fleetHealth() reads the counts the hub sampled as it started, and passes a bad range on as the API refused it', async () => {
  const health = await admin.fleetHealth({ from: Date.now() - 3600_000, to: Date.now() + 1000 });
  assert.ok(health.intervalMs > 0);
  assert.ok(health.points.length >= 1, 'one sample at start');
  for (const { online, offline, alerting } of health.points) assert.deepEqual({ online, offline, alerting }, ZERO);
  await assert.rejects(
    admin.fleetHealth({ from: 2000, to: 1000 }),
    (err: unknown) => err instanceof FlotillaApiError && err.status === 400 && err.code === 'bad_request',
  );
});
