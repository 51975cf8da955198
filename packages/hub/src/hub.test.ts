import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Device, StoredEvent } from '@flotilla/protocol';
import { TestSocket } from './client-ws/test-client.js';
import { TestDevice } from './gateway/testing.js';
import { resolveHubConfig, startHub, type HubOptions, type RunningHub } from './index.js';
import { createTestDatabase } from './storage/testing.js';
import { startFailure } from './start-failure.testing.js';

/**
 * `startHub` end to end over real sockets: devices over `/ws/agent`, live updates on
 * `/ws/client`, the REST API over HTTP, restarts on the same data, and every way a start fails.
 */
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-hub-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ADMIN_PASSWORD = 'hub-test-admin-password';
const base: HubOptions = {
  port: 0,
  host: '127.0.0.1',
  // Port 1883 belongs to the machine's Mosquitto; MQTT has its own tests (mqtt/broker.test.ts).
  mqttPort: 0,
  logLevel: 'silent',
  heartbeatIntervalMs: 1000,
  adminPassword: ADMIN_PASSWORD,
};

/** Logs in as `admin` over HTTP, as a client would. */
async function adminToken(hub: RunningHub): Promise<string> {
  const res = await fetch(`${hub.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

async function getJson<T>(hub: RunningHub, path: string): Promise<T> {
  const res = await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${await adminToken(hub)}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe('startHub', () => {
  test('devices connect over /ws/agent and clients see it live on /ws/client', async () => {
    const hub = await startHub({ ...base, dataDir: tempDir() });
    try {
      assert.match(hub.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(hub.url, `http://127.0.0.1:${hub.port}`);
      const wsBase = hub.url.replace(/^http/, 'ws');
      // Browsers cannot set headers on a WebSocket: the token may come in the query instead.
      const refused = await TestSocket.connect(`${wsBase}/ws/client`).then(
        () => 'connected',
        (err: Error) => err.message,
      );
      assert.match(refused, /401/);
      const client = await TestSocket.connect(`${wsBase}/ws/client?access_token=${await adminToken(hub)}`);
      client.send({ type: 'subscribe', id: 'all', subjects: ['flotilla.*.status', 'flotilla.*.event.>'] });
      await client.next((f) => f['type'] === 'subscribed');

      const { token } = await hub.createEnrollmentToken({ uses: 1 });
      const { device, welcome } = await TestDevice.online(`${wsBase}/ws/agent`, 'real-1', {
        name: 'Real One',
        type: 'lekiwi',
        labels: { site: 'lab' },
        token,
      });
      assert.match(String((welcome.payload as { credential?: string }).credential), /^fld_/);
      assert.equal((welcome.payload as { heartbeatIntervalMs: number }).heartbeatIntervalMs, 1000);

      type Msg = { type: string; subject: string; data: Device & StoredEvent };
      const registered = await client.next<Msg>((f) => f.subject === 'flotilla.real-1.event.DeviceRegistered');
      assert.equal(registered.data.aggregateId, 'real-1');
      await client.next<Msg>((f) => f.subject === 'flotilla.real-1.event.DeviceConnected');
      const online = await client.next<Msg>((f) => f.subject === 'flotilla.real-1.status');
      assert.equal(online.data.status.online, true);
      assert.equal(online.data.name, 'Real One');

      const listed = await getJson<{ items: Device[] }>(hub, '/api/v1/devices?online=true&label=site%3Dlab');
      assert.deepEqual(
        listed.items.map((d) => [d.id, d.type, d.status.transport]),
        [['real-1', 'lekiwi', 'ws']],
      );

      // A device event reaches subscribers as it is stored.
      device.send('event', { type: 'door.opened', data: { door: 2 } });
      const reported = await client.next<Msg>((f) => f.subject === 'flotilla.real-1.event.DeviceReported');
      assert.deepEqual(reported.data.data, { type: 'door.opened', data: { door: 2 } });

      await device.close();
      const disconnected = await client.next<Msg>((f) => f.subject === 'flotilla.real-1.event.DeviceDisconnected');
      assert.equal(disconnected.data.data['reason'], 'socket_closed');
      const offline = await client.next<Msg>((f) => f.subject === 'flotilla.real-1.status');
      assert.equal(offline.data.status.online, false);
      await client.close();
    } finally {
      await hub.close();
    }
  });

  test('a restart on the same data directory keeps every device and event', async () => {
    const dataDir = tempDir();
    const first = await startHub({ ...base, dataDir });
    const wsAgent = `${first.url.replace(/^http/, 'ws')}/ws/agent`;
    const { token } = await first.createEnrollmentToken({});
    for (const id of ['keep-1', 'keep-2']) {
      const { device } = await TestDevice.online(wsAgent, id, { name: id.toUpperCase(), token });
      await device.close();
    }
    const patched = await fetch(`${first.url}/api/v1/devices/keep-2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken(first)}` },
      body: JSON.stringify({ labels: { kept: 'yes' } }),
    });
    assert.equal(patched.status, 200);
    const devicesBefore = await getJson<{ items: Device[] }>(first, '/api/v1/devices');
    const eventsBefore = await getJson<{ items: StoredEvent[] }>(first, '/api/v1/events?limit=1000');
    await first.close();
    await first.close(); // idempotent

    const second = await startHub({ ...base, dataDir });
    try {
      const devicesAfter = await getJson<{ items: Device[] }>(second, '/api/v1/devices');
      assert.deepEqual(
        devicesAfter.items.map((d) => [d.id, d.name, d.labels, d.status.online]),
        [
          ['keep-1', 'KEEP-1', {}, false],
          ['keep-2', 'KEEP-2', { kept: 'yes' }, false],
        ],
      );
      assert.deepEqual(devicesAfter.items, devicesBefore.items);
      const eventsAfter = await getJson<{ items: StoredEvent[] }>(second, '/api/v1/events?limit=1000');
      assert.deepEqual(eventsAfter.items.slice(0, eventsBefore.items.length), eventsBefore.items);
    } finally {
      await second.close();
    }
  });

  test('a second hub on the same data directory fails with data_dir_locked', async () => {
    const dataDir = tempDir();
    const first = await startHub({ ...base, dataDir });
    try {
      const err = await startFailure({ ...base, dataDir });
      assert.equal(err.code, 'data_dir_locked');
      assert.match(err.message, new RegExp(`process ${process.pid}`));
    } finally {
      await first.close();
    }
    // The lock goes with the hub.
    const again = await startHub({ ...base, dataDir });
    await again.close();
  });

  test('a taken port fails with port_in_use, naming the port, and leaves no lock behind', async () => {
    const first = await startHub({ ...base, dataDir: tempDir() });
    try {
      const dataDir = tempDir();
      const err = await startFailure({ ...base, port: first.port, dataDir });
      assert.equal(err.code, 'port_in_use');
      assert.match(err.message, new RegExp(`port ${first.port}`));
      const retry = await startHub({ ...base, dataDir });
      await retry.close();
    } finally {
      await first.close();
    }
  });

  test('an unreachable database fails with database_unreachable, without the password', async () => {
    const err = await startFailure({ ...base, databaseUrl: 'postgres://flotilla:s3cret@127.0.0.1:1/flotilla' });
    assert.equal(err.code, 'database_unreachable');
    assert.doesNotMatch(err.message, /s3cret/);
  });

  test('an unwritable data directory fails with data_dir_unwritable', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const err = await startFailure({ ...base, dataDir: join(file, 'data') });
    assert.equal(err.code, 'data_dir_unwritable');
  });

  test('options out of range fail with bad_config', async () => {
    for (const options of [
      { heartbeatIntervalMs: 10 },
      { port: 70000 },
      { port: -1 },
      { logLevel: 'loud' },
      { databaseUrl: 'mysql://x' },
      { deviceMessageRate: -1 },
      { deviceMessageRate: 2.5 },
    ]) {
      const err = await startFailure({ ...base, dataDir: tempDir(), ...options });
      assert.equal(err.code, 'bad_config', JSON.stringify(options));
    }
  });

  test('the device message rate becomes a limit with a two-second burst; 0 turns it off', () => {
    assert.deepEqual(resolveHubConfig({}).deviceMessageLimit, { rate: 100, burst: 200 });
    assert.deepEqual(resolveHubConfig({ deviceMessageRate: 5 }).deviceMessageLimit, { rate: 5, burst: 10 });
    assert.equal(resolveHubConfig({ deviceMessageRate: 0 }).deviceMessageLimit, undefined);
  });

  test('runs on PostgreSQL and keeps its data across restarts there too', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startHub({ ...base, databaseUrl: database.url });
      const { token } = await first.createEnrollmentToken({ uses: 1 });
      const { device } = await TestDevice.online(`${first.url.replace(/^http/, 'ws')}/ws/agent`, 'pg-1', {
        type: 'xle',
        token,
      });
      await device.close();
      await first.close();
      const second = await startHub({ ...base, databaseUrl: database.url });
      try {
        const devices = await getJson<{ items: Device[] }>(second, '/api/v1/devices');
        assert.deepEqual(
          devices.items.map((d) => [d.id, d.type]),
          [['pg-1', 'xle']],
        );
        const ready = await fetch(`${second.url}/api/v1/ready`);
        assert.equal(ready.status, 200);
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });
});
