import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type ResultPayload } from '@flotilla/protocol';
import { CALIBRATION_STEP_MS, CALIBRATION_STEPS, simRegistries } from './commands.js';
import { TonyPi } from './kinds/tonypi.js';
import { Rng } from './random.js';

/** The simulator's command handlers, run the way the agent runs them, on a manual clock. */
function setup() {
  const clock = new ManualClock();
  const robot = new TonyPi(new Rng(3));
  const registries = simRegistries((id) => (id === 'tp-1' ? robot : undefined), clock);
  const progress: Array<[number, string | undefined]> = [];
  const run = (cancel?: AbortSignal): Promise<ResultPayload> =>
    registries.tonypi.execute(
      { id: 'cal-1', capability: 'hal.v1.sensor.imu', command: 'calibrate', args: {}, timeoutMs: 60_000 },
      'tp-1',
      clock,
      30_000,
      { progress: (p, m) => progress.push([p, m]), ...(cancel && { cancel }) },
    );
  return { clock, robot, run, progress };
}

/** Lets the handler's awaits run between clock steps. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a humanoid calibrates its IMU as a job: progress every step, then the gyro bias is gone', async () => {
  const { clock, robot, run, progress } = setup();
  assert.ok(robot.gyroBias > 0);
  const result = run();
  for (let i = 0; i < CALIBRATION_STEPS; i++) {
    await settle();
    clock.advance(CALIBRATION_STEP_MS);
  }
  assert.deepEqual(await result, { id: 'cal-1', status: 'succeeded', result: { gyroBias: 0.01 } });
  assert.equal(robot.gyroBias, 0);
  assert.equal(progress.length, CALIBRATION_STEPS);
  assert.deepEqual(progress[0], [0.1, 'sampling the gyro 1/10']);
  assert.deepEqual(progress.at(-1), [1, 'sampling the gyro 10/10']);
  // Against a twin that was never calibrated (same seed, same steps), the yaw no longer drifts
  // by the bias: 0.01 °/s over 100 s.
  const twin = new TonyPi(new Rng(3));
  for (let i = 0; i < 100; i++) {
    robot.step(1);
    twin.step(1);
  }
  const drift = ((((twin.yaw - robot.yaw) % 360) + 540) % 360) - 180;
  assert.ok(Math.abs(drift - 1) < 1e-6, `drift ${drift}°`);
});

test('a cancelled calibration stops at once and leaves the bias as it was', async () => {
  const { clock, robot, run, progress } = setup();
  const cancel = new AbortController();
  const result = run(cancel.signal);
  for (let i = 0; i < 3; i++) {
    await settle();
    clock.advance(CALIBRATION_STEP_MS);
  }
  await settle();
  cancel.abort('operator needs the robot');
  assert.deepEqual(await result, {
    id: 'cal-1',
    status: 'cancelled',
    error: { code: 'cancelled', message: 'operator needs the robot' },
  });
  clock.advance(10 * CALIBRATION_STEP_MS);
  await settle();
  assert.equal(progress.length, 3);
  assert.equal(robot.gyroBias, 0.01);
});
