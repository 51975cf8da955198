import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_SERVICE, HUB_SERVICE, Mdns, deviceTxt, findHub } from '@flotilla/discovery';
import { HUB_VERSION } from '../config.js';
import { startHub, type RunningHub } from '../hub.js';
import type { DiscoveredDevice } from './service.js';

/**
 * The hub on mDNS over real multicast, kept on the loopback interface; every hub and device here
 * has an id of its own and the assertions look at those alone, so parallel tests do not mix.
 */
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const unique = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
const PASSWORD = 'discovery-test-password';

async function hubOnLoopback(mdns: 'loopback' | 'off'): Promise<RunningHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-discovery-'));
  dirs.push(dataDir);
  return startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir,
    logLevel: 'silent',
    adminPassword: PASSWORD,
    hubId: unique('hub'),
    mdns: mdns === 'off' ? 'off' : { address: '127.0.0.1' },
  });
}

async function token(hub: RunningHub): Promise<string> {
  const res = await fetch(`${hub.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function discovered(hub: RunningHub, bearer: string): Promise<{ items: DiscoveredDevice[]; browsing: boolean }> {
  const res = await fetch(`${hub.url}/api/v1/discovered`, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { items: DiscoveredDevice[]; browsing: boolean };
}

/** Asks until `check` holds (mDNS answers arrive over the network), bounded. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the hub advertises _flotilla._tcp with its id, version, paths and TLS flag; an agent finds its URL', async () => {
  const hub = await hubOnLoopback('loopback');
  try {
    const found = await findHub({ interface: '127.0.0.1', hubId: hub.hubId });
    assert.equal(found.url, hub.url);
    assert.deepEqual(found.hub, { id: hub.hubId, version: HUB_VERSION, api: '/api/v1', ws: '/ws/agent', tls: false });
  } finally {
    await hub.close();
  }
});

test('devices that advertise themselves and are not enrolled are listed at GET /api/v1/discovered', async () => {
  const hub = await hubOnLoopback('loopback');
  const device = await Mdns.open({ interface: '127.0.0.1' });
  const watcher = await Mdns.open({ interface: '127.0.0.1' });
  try {
    const bearer = await token(hub);
    const fresh = unique('robot');
    const elsewhere = unique('robot');
    device.advertise({
      instance: fresh,
      type: DEVICE_SERVICE,
      port: 9,
      txt: deviceTxt({ id: fresh, type: 'lekiwi', enrollment: 'unenrolled', version: '0.1.0' }),
    });
    device.advertise({
      instance: elsewhere,
      type: DEVICE_SERVICE,
      port: 9,
      txt: deviceTxt({ id: elsewhere, enrollment: 'enrolled', version: '0.1.0' }),
    });
    const list = await eventually(
      'both devices',
      () => discovered(hub, bearer),
      (l) => l.items.filter((d) => d.id === fresh || d.id === elsewhere).length === 2,
    );
    assert.equal(list.browsing, true);
    const mine = list.items.find((d) => d.id === fresh)!;
    assert.equal(mine.type, 'lekiwi');
    assert.equal(mine.enrollment, 'unenrolled');
    assert.equal(mine.agentVersion, '0.1.0');
    assert.ok(mine.addresses.includes('127.0.0.1'));
    assert.ok(mine.lastSeen >= mine.firstSeen);
    // Enrolled with some other hub: this one has never seen it, so it is still one to enroll here.
    assert.equal(list.items.find((d) => d.id === elsewhere)?.type, null);

    const anonymous = await fetch(`${hub.url}/api/v1/discovered`);
    assert.equal(anonymous.status, 401);

    // Closing the hub says goodbye: browsers drop it at once.
    const browser = watcher.browse(HUB_SERVICE);
    await new Promise<void>((resolve) => {
      const up = (s: { instance: string }): void => {
        if (s.instance === hub.hubId) resolve();
      };
      browser.on('up', up);
    });
    const gone = new Promise<void>((resolve) =>
      browser.on('down', (s) => {
        if (s.instance === hub.hubId) resolve();
      }),
    );
    await hub.close();
    await gone;
  } finally {
    await hub.close();
    await device.close();
    await watcher.close();
  }
});

test('with --mdns off the hub neither advertises nor browses, and says so', async () => {
  const hub = await hubOnLoopback('off');
  try {
    assert.deepEqual(await discovered(hub, await token(hub)), { items: [], browsing: false });
  } finally {
    await hub.close();
  }
});
