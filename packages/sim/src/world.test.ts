import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lekiwi } from './kinds/lekiwi.js';
import { RANGE_MAX_M } from './kinds/mobile-base.js';
import { Rng } from './random.js';
import { collides, raycast, roomFor, type WorldSpec } from './world.js';

const room: WorldSpec = {
  halfWidth: 5,
  halfHeight: 3,
  obstacles: [
    { kind: 'disc', x: 2, y: 0, r: 0.5 },
    { kind: 'box', x: -2, y: 0, halfW: 0.5, halfH: 1 },
  ],
};

test('rays stop at the walls of the room and at round and box obstacles', () => {
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  near(raycast(room, 0, 0, Math.PI / 2, 10), 3); // up: the wall at y = 3
  near(raycast(room, 0, 0, 0, 10), 1.5); // right: the disc's near side at x = 1.5
  near(raycast(room, 0, 0, Math.PI, 10), 1.5); // left: the box's face at x = -1.5
  near(raycast(room, 0, 2, 0, 10), 5); // above the disc: the east wall
  near(raycast(room, 0, 0, Math.PI / 2, 2), 2); // beyond the sensor's reach: its maximum
  near(raycast(room, 0, 0, Math.atan2(3, 5), 10), Math.hypot(5, 3)); // into the corner
  assert.equal(collides(room, 0, 0, 0.2), false);
  assert.equal(collides(room, 1.4, 0, 0.2), true);
  assert.equal(collides(room, 4.9, 0, 0.2), true);
  assert.equal(collides(room, -2, 1.1, 0.2), true);
});

/** A LeKiwi parked at a known pose in its room, driven by hand. */
function kiwi(x: number, y: number, theta: number): Lekiwi {
  const r = new Lekiwi(new Rng(5));
  r.battery.soc = 0.9;
  r.mode = 'idle';
  Object.assign(r.pose, { x, y, theta });
  return r;
}

test('the range sensors measure the distance to the wall ahead, and the bumper stops the base there', () => {
  const r = kiwi(0, 0, Math.PI / 2); // facing +y; the room of an 8 m arena has its wall at y = 10
  const logs: string[] = [];
  r.log = (_level, message) => logs.push(message);
  r.step(0.1);
  const wall = roomFor(r.params.arenaM).halfHeight;
  assert.ok(wall - r.params.radiusM > RANGE_MAX_M, 'the wall starts beyond the sensor');
  assert.ok(Math.abs(r.ranges.front - RANGE_MAX_M) < 0.03, `front ${r.ranges.front}`);
  r.drive(0.5, 0.5);
  const readings: number[] = [];
  for (let i = 0; i < 300 && r.mode === 'manual'; i++) {
    r.step(0.1);
    readings.push(r.ranges.front);
  }
  // Driving at the wall, the front range falls as the base closes in, down to the bumper.
  const seen = readings.filter((d) => d < RANGE_MAX_M - 0.05);
  assert.ok(seen.length > 10, 'the wall came into range');
  assert.ok(
    seen.every((d, i) => i === 0 || d <= seen[i - 1]! + 0.03),
    'monotonic within noise',
  );
  assert.ok(Math.abs(r.ranges.front - (wall - r.params.radiusM - r.pose.y)) < 0.03, 'range = gap to the wall');
  assert.ok(r.pose.y < wall - r.params.radiusM && r.pose.y > wall - r.params.radiusM - 0.1, `stopped at ${r.pose.y}`);
  assert.equal(r.left, 0);
  assert.equal(r.mode, 'idle', 'the bumper stopped the manual drive');
  assert.ok(logs.includes('bumper hit: stopped'));
});

test('the IMU follows the heading, drifts with its gyro bias until calibrated, and feels turns and braking', () => {
  const r = kiwi(0, 0, 0);
  const bias = r.gyroBias;
  assert.ok(bias > 0);
  for (let i = 0; i < 100; i++) r.step(0.1); // 10 s parked: only drift
  const parked = r.imu();
  assert.ok(Math.abs(parked.yaw - bias * 10) < 0.006, `yaw ${parked.yaw} after 10 s of ${bias} deg/s`);
  r.gyroBias = 0; // what hal.v1.sensor.imu calibrate does

  r.drive(0.1, 0.3); // a left turn: ω = 0.8 rad/s, v = 0.2 m/s
  for (let i = 0; i < 10; i++) r.step(0.1);
  const turning = r.imu();
  const deg = 180 / Math.PI;
  assert.ok(Math.abs(turning.yaw - (r.pose.theta * deg + bias * 10)) < 0.05, `yaw ${turning.yaw}`);
  assert.ok(Math.abs(turning.gyro[2]! - 0.8) < 1e-3, `gyro z ${turning.gyro[2]}`);
  assert.ok(Math.abs(turning.accel[1]! - 0.2 * 0.8) < 1e-3, 'centripetal acceleration v·ω');
  assert.ok(turning.roll > 0.5, `rolls out of the turn: ${turning.roll}°`);

  r.setEstop(true);
  r.step(0.1);
  assert.equal(r.left, 0, 'the estop stops the wheels at once');
  const braking = r.imu();
  assert.ok(braking.accel[0]! < -1, `hard deceleration ${braking.accel[0]}`);
  assert.ok(braking.pitch > 5, `pitches forward: ${braking.pitch}°`);
});

test('patrolling bases keep out of walls and obstacles for an hour', () => {
  for (const seed of [1, 2, 3, 4]) {
    const r = new Lekiwi(new Rng(seed));
    r.battery.soc = 1;
    r.mode = 'patrol';
    let bumps = 0;
    r.log = (_level, message) => {
      if (message.startsWith('bumper')) bumps++;
    };
    for (let i = 0; i < 3600; i++) {
      r.step(1);
      assert.ok(!collides(r.world, r.pose.x, r.pose.y, r.params.radiusM), `seed ${seed} inside something at ${i}s`);
    }
    assert.ok(bumps <= 5, `seed ${seed}: ${bumps} bumps in an hour`);
  }
});
