import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimHub, until, type SimHub } from '../testing/sim-hub.js';

/** `flotilla jobs` and `flotilla cancel` against a real hub whose simulated TonyPi calibrates its IMU as a job. */
let hub: SimHub;
before(async () => {
  hub = await startSimHub('tonypi', 1);
});
after(() => hub.stop());

const client = () => hub.client();
const cli = (argv: string[]) => hub.cli(argv);

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
