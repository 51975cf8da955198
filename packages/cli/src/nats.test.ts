import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, silentLogger } from '@flotilla/agent';
import { FlotillaClient } from '@flotilla/sdk';
import {
  TEST_NATS_URL,
  createTestDatabase,
  destroyFleetBuckets,
  testNatsPrefix,
  type TestDatabase,
} from '@flotilla/hub/testing';
import { cliProcesses, login, startHubProcess, stopProcess, until } from './testing/hub-process.js';

// Issue 5's acceptance for NATS: two `flotilla hub --nats ... --database-url ...` processes on
// the machine's NATS (JetStream on) and one PostgreSQL test database share one fleet. Real
// agents, each knowing both hubs, run in this process. Waiting is for real processes, sockets and
// the presence TTL of a killed hub (bounded), never a fixed sleep.
const ADMIN_PASSWORD = 'nats-admin-password';
const prefix = testNatsPrefix();
const env = {
  ...process.env,
  FLOTILLA_LOG_LEVEL: 'silent',
  NO_COLOR: '1',
  FLOTILLA_ADMIN_PASSWORD: ADMIN_PASSWORD,
  FLOTILLA_NATS_PREFIX: prefix,
};
const root = mkdtempSync(join(tmpdir(), 'flotilla-nats-'));
const processes = cliProcesses(env);
const agents: Agent[] = [];
let database: TestDatabase | undefined;
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  processes.killAll();
  await destroyFleetBuckets(prefix).catch(() => undefined);
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
});

function hubArgs(databaseUrl: string): string[] {
  // Port 1883 belongs to the machine's Mosquitto.
  return [
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--mqtt-port',
    'off',
    '--database-url',
    databaseUrl,
    '--nats',
    TEST_NATS_URL,
    '--insecure-devices',
  ];
}

function robot(id: string, hubs: string[]): Agent {
  const [hubUrl, ...hubUrls] = hubs as [string, ...string[]];
  const agent = new Agent({
    hubUrl,
    hubUrls,
    id,
    stateDir: join(root, id),
    systemFacts: false,
    collectSystemMetrics: false,
    logger: silentLogger,
    backoff: { baseMs: 100, capMs: 500 },
    facts: { type: 'lekiwi' },
  });
  agent.registerCommandHandler('hal.v1.led', 'set', (args) => ({ on: args['on'], by: id }));
  agents.push(agent);
  agent.start();
  return agent;
}

async function online(client: FlotillaClient, id: string): Promise<boolean> {
  return (await client.getDevice(id)).status.online;
}

test(
  'two hubs on NATS + PostgreSQL: a command through B reaches a device on A; SIGKILL of A moves its devices to B',
  { timeout: 180_000 },
  async () => {
    database = await createTestDatabase();
    const a = await startHubProcess(processes, hubArgs(database.url));
    const b = await startHubProcess(processes, hubArgs(database.url));
    const viaB = new FlotillaClient({ baseUrl: b.url, token: await login(b.url, 'admin', ADMIN_PASSWORD) });

    // r1 and r2 know both hubs and connect to A first; r3 knows only A.
    robot('acc-r1', [a.url, b.url]);
    robot('acc-r2', [a.url, b.url]);
    robot('acc-r3', [a.url]);
    for (const id of ['acc-r1', 'acc-r2', 'acc-r3']) {
      await until(`${id} online, seen through B`, async () => ((await online(viaB, id)) ? true : undefined));
    }

    const record = await viaB.sendCommand('acc-r1', { capability: 'hal.v1.led', command: 'set', args: { on: true } });
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.result, { on: true, by: 'acc-r1' });

    assert.equal(await stopProcess(a.child, 'SIGKILL'), null);
    // r1 and r2 reconnect to B; a command through B reaches each of them there.
    for (const id of ['acc-r1', 'acc-r2']) {
      const moved = await until(`${id} commanded through B after the kill`, async () => {
        const r = await viaB.sendCommand(id, { capability: 'hal.v1.led', command: 'set', args: { on: false } });
        return r.status === 'succeeded' ? r : undefined;
      });
      assert.deepEqual(moved.result, { on: false, by: id });
      assert.equal(await online(viaB, id), true);
    }
    // r3 cannot come back: once A's presence expires, B (now the leader) marks it offline.
    await until('acc-r3 marked offline', async () => ((await online(viaB, 'acc-r3')) ? undefined : true), 60_000);
    const events = await viaB.listEvents({ device: 'acc-r3', type: 'DeviceDisconnected', order: 'desc', limit: 1 });
    assert.equal(events.items[0]?.data['reason'], 'hub_lost');

    assert.equal(await stopProcess(b.child, 'SIGINT'), 0);
  },
);
