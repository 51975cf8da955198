import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';

/** `flotilla jobs` and `flotilla cancel` against a real hub whose simulated TonyPi calibrates its IMU as a job. */
const PASSWORD = 'jobs-test-password';
let dataDir: string;
let hubIo: ReturnType<typeof testIo>;
let hubDone: Promise<number>;
let url: string;
let token: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'flotilla-jobs-'));
  hubIo = testIo({ env: { FLOTILLA_LOG_LEVEL: 'silent', FLOTILLA_ADMIN_PASSWORD: PASSWORD } });
  hubDone = main(
    [
      'hub',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      '--mqtt-port',
      'off',
      '--sim',
      '1',
      '--sim-kind',
      'tonypi',
    ],
    hubIo,
  );
  await hubIo.waitForOutput('Press Ctrl-C to stop.');
  url = /Console and API +(http:\/\/\S+)\//.exec(hubIo.out())?.[1] ?? '';
  token = (await new FlotillaClient({ baseUrl: url }).login('admin', PASSWORD)).token;
  await until(async () => (await client().listDevices({ online: true })).items.length === 1, 'the robot online');
});
after(async () => {
  hubIo.signal();
  assert.equal(await hubDone, 0);
  rmSync(dataDir, { recursive: true, force: true });
});

const client = () => new FlotillaClient({ baseUrl: url, token });

/** Polls real progress (a hub and a robot over sockets), bounded. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function cli(argv: string[]) {
  const io = testIo({ env: { FLOTILLA_HUB: url, FLOTILLA_TOKEN: token } });
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

test('a calibration shows in jobs while it runs; cancel stops it and jobs shows it cancelled', async () => {
  const started = await cli(['send', 'tonypi-0001', 'hal.v1.sensor.imu.calibrate', '--async', '--json']);
  assert.equal(started.code, 0, started.err);
  const { id, job } = JSON.parse(started.out) as { id: string; job: boolean };
  assert.equal(job, true);

  await until(async () => ((await client().getCommand(id)).progress ?? 0) > 0, 'first progress');
  const open = await cli(['jobs', '--open']);
  assert.equal(open.code, 0, open.err);
  const row = open.out.split('\n').find((l) => l.startsWith(id));
  assert.match(row ?? '', /tonypi-0001 +hal\.v1\.sensor\.imu\.calibrate +running +\d+% sampling the gyro \d+\/10 +/);

  const cancel = await cli(['cancel', id, '--reason', 'test over']);
  assert.equal(cancel.code, 0, cancel.err);
  assert.equal(
    cancel.out,
    `Cancel sent to tonypi-0001 for hal.v1.sensor.imu.calibrate (${id}); flotilla jobs shows the outcome.\n`,
  );
  await until(async () => (await client().getCommand(id)).status === 'cancelled', 'cancelled');
  const all = await cli(['jobs', '--json']);
  const listed = (JSON.parse(all.out) as Array<{ id: string; status: string; error?: { message: string } }>).find(
    (j) => j.id === id,
  );
  assert.equal(listed?.status, 'cancelled');
  assert.equal(listed?.error?.message, 'test over');
  assert.equal((await cli(['jobs', '--open'])).out, 'No job is running.\n');

  const again = await cli(['cancel', id]);
  assert.equal(again.code, 1);
  assert.match(again.err, /^flotilla cancel: command .* has finished \(cancelled\)\n$/);
  const missing = await cli(['cancel']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing COMMAND_ID/);
});
