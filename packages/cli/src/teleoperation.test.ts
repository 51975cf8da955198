import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@flotilla/agent';
import { startHub, type RunningHub } from '@flotilla/hub';
import { ManualClock } from '@flotilla/protocol';
import { FlotillaClient, type StoredEvent } from '@flotilla/sdk';
import { startSimulation, type Simulation } from '@flotilla/sim';
import { main } from './main.js';
import { testIo } from './testing/io.js';
import { until } from './testing/sim-hub.js';

/**
 * Teleoperation end to end: drive commands sent through a real hub to a simulated LeKiwi, whose
 * agent's detector (on the simulation's ManualClock) reports the session; the registry shows it,
 * with the user who sent the commands as operator, and the event log has TeleoperationStarted, then TeleoperationStopped once the commands stop.
 */
const ADMIN_PASSWORD = 'teleop-admin-password';
const ID = 'lekiwi-0001';
let dataDir: string;
let hub: RunningHub;
let sim: Simulation;
let client: FlotillaClient;
const clock = new ManualClock(Date.now());

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flotilla-teleop-'));
  hub = await startHub({
    port: 0,
    host: '127.0.0.1',
    mqttPort: false,
    dataDir,
    adminPassword: ADMIN_PASSWORD,
    logLevel: 'silent',
  });
  const { token } = await hub.createEnrollmentToken({});
  sim = await startSimulation({
    hubUrl: hub.url,
    count: 1,
    kind: 'lekiwi',
    rate: 0,
    clock,
    token,
    logger: silentLogger,
    seed: 3,
  });
  client = new FlotillaClient({ baseUrl: hub.url });
  await client.login('admin', ADMIN_PASSWORD);
  await until(async () => (await client.listDevices({ online: true })).items.length === 1, 'the robot online');
});
after(async () => {
  await sim.stop();
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Moves the simulation's clock in steps, letting the agent's work (detector reads, frames) run between them. */
async function advance(ms: number, step = 100, each?: () => Promise<unknown>): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await each?.();
    clock.advance(step);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const drive = () =>
  client.sendCommand(ID, {
    capability: 'hal.v1.motor.differential',
    command: 'drive',
    args: { left: 0.2, right: 0.2 },
  });

const events = async (type: string): Promise<StoredEvent[]> => (await client.listEvents({ device: ID, type })).items;

test('drive commands at a rate make the robot teleoperated in the registry; when they stop, it is not', async () => {
  // A couple of commands are not a session.
  await drive();
  await advance(1_000);
  await drive();
  await advance(3_000);
  assert.equal((await client.getDevice(ID)).teleoperation.active, false);

  // 10 drive commands a second for 2 s (of the simulation's clock).
  await advance(2_000, 100, drive);
  await until(async () => (await events('TeleoperationStarted')).length === 1, 'TeleoperationStarted');
  const [started] = await events('TeleoperationStarted');
  assert.deepEqual(started?.data['indicators'], ['command_rate']);
  // The robot cannot tell who drives it; the hub knows who sent the commands.
  assert.equal(started?.data['operator'], 'user:admin');
  assert.equal(started?.metadata.actor, `device:${ID}`);
  const device = await client.getDevice(ID);
  assert.equal(device.teleoperation.active, true);
  assert.deepEqual(device.teleoperation.indicators, ['command_rate']);
  assert.equal(device.teleoperation.operator, 'user:admin');
  assert.deepEqual(
    (await client.listDevices({ teleoperated: true })).items.map((d) => d.id),
    [ID],
  );
  const io = testIo({ env: { FLOTILLA_HUB: hub.url, FLOTILLA_TOKEN: await token() }, now: Date.now() });
  assert.equal(await main(['devices', '--teleoperated'], io), 0, io.err());
  assert.match(io.out(), /^ID +NAME +TYPE +STATUS +TELEOP +LAST SEEN/);
  assert.match(io.out(), new RegExp(`^${ID} .* online +user:admin `, 'm'));

  // The commands stop: the window empties, then the quiet lasts past the stop debounce.
  await advance(8_000, 500);
  await until(async () => (await events('TeleoperationStopped')).length === 1, 'TeleoperationStopped');
  assert.equal((await client.getDevice(ID)).teleoperation.active, false);
  assert.deepEqual((await client.listDevices({ teleoperated: true })).items, []);
});

async function token(): Promise<string> {
  const fresh = new FlotillaClient({ baseUrl: hub.url });
  return (await fresh.login('admin', ADMIN_PASSWORD)).token;
}
