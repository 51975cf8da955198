import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Battery, cellVoltage, integrateDiffDrive, lag, meanRevert, wrapAngle } from './physics.js';
import { Rng } from './random.js';

const pack = { cells: 3, capacityWh: 60, chargeW: 30, resistanceOhm: 0.1 };

test('a battery drains in proportion to load and sags under current', () => {
  const light = new Battery(pack, 0.9);
  const heavy = new Battery(pack, 0.9);
  for (let i = 0; i < 600; i++) {
    light.update(6, false, 1);
    heavy.update(30, false, 1);
  }
  // 10 minutes: 1 Wh of 60 at 6 W, 5 Wh at 30 W
  assert.ok(Math.abs(0.9 - light.soc - 1 / 60) < 1e-9);
  assert.ok(Math.abs(0.9 - heavy.soc - 5 / 60) < 1e-9);
  assert.ok(heavy.current > light.current && light.current > 0);
  assert.ok(heavy.voltage < light.voltage, 'more current, more sag');
  assert.equal(heavy.charging, false);
});

test('on the charger it charges at full power, then tapers near full, never past 100%', () => {
  const b = new Battery(pack, 0.2);
  b.update(5, true, 60);
  assert.equal(b.charging, true);
  assert.ok(b.current < 0, 'current flows into the pack');
  const rateLow = b.soc;
  b.soc = 0.95;
  const before = b.soc;
  b.update(5, true, 60);
  assert.ok(b.soc - before < (rateLow - 0.2) / 2, 'slower above 80%');
  for (let i = 0; i < 100_000; i++) b.update(5, true, 10);
  assert.ok(b.soc <= 1);
  assert.ok(b.soc > 0.999);
});

test('cell voltage spans 3.0–4.2 V and rises with charge', () => {
  assert.ok(Math.abs(cellVoltage(0) - 3.0) < 0.01);
  assert.ok(Math.abs(cellVoltage(1) - 4.2) < 0.01);
  for (let s = 0; s < 1; s += 0.05) assert.ok(cellVoltage(s + 0.05) > cellVoltage(s));
});

test('differential drive: straight line, turn in place, and a closed circle', () => {
  const p = { x: 0, y: 0, theta: 0 };
  for (let i = 0; i < 100; i++) integrateDiffDrive(p, 0.5, 0.5, 0.3, 0.1);
  assert.ok(Math.abs(p.x - 5) < 1e-9 && Math.abs(p.y) < 1e-9);

  const q = { x: 0, y: 0, theta: 0 };
  integrateDiffDrive(q, -0.15, 0.15, 0.3, Math.PI / 2); // ω = 1 rad/s for π/2 s
  assert.ok(Math.abs(q.theta - Math.PI / 2) < 1e-9 && Math.hypot(q.x, q.y) < 1e-9);

  // v = 0.2, ω = 0.4: radius 0.5 m, a full turn in 5π s comes back to the start
  const c = { x: 0, y: 0, theta: 0 };
  const steps = 1000;
  for (let i = 0; i < steps; i++) integrateDiffDrive(c, 0.2 - 0.06, 0.2 + 0.06, 0.3, (5 * Math.PI) / steps);
  assert.ok(Math.hypot(c.x, c.y) < 1e-3, `ended at ${c.x},${c.y}`);
});

test('lag is exact for any step size; wrapAngle stays in (-π, π]', () => {
  const one = lag(20, 60, 100, 100);
  let many = 20;
  for (let i = 0; i < 100; i++) many = lag(many, 60, 1, 100);
  assert.ok(Math.abs(one - many) < 1e-9);
  assert.ok(Math.abs(one - (60 - 40 / Math.E)) < 1e-9);
  assert.equal(wrapAngle(Math.PI), Math.PI);
  assert.equal(wrapAngle(-Math.PI), Math.PI);
  assert.ok(Math.abs(wrapAngle((3 * Math.PI) / 2) + Math.PI / 2) < 1e-12);
});

test('mean-reverting noise keeps its spread whatever the step', () => {
  const sd = (dt: number): number => {
    const rng = new Rng(7);
    let x = 0;
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      x = meanRevert(x, dt, 10, 2, rng);
      sum += x * x;
    }
    return Math.sqrt(sum / n);
  };
  assert.ok(Math.abs(sd(1) - 2) < 0.3);
  assert.ok(Math.abs(sd(20) - 2) < 0.3);
});
