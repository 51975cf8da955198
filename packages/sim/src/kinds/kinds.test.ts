import { test } from 'node:test';
import assert from 'node:assert/strict';
import { halCapability, protocolAjv, validateMessage } from '@flotilla/protocol';
import { Rng } from '../random.js';
import { KIND_SPECS, kindAt } from './index.js';
import { Lekiwi } from './lekiwi.js';
import { Mcu } from './mcu.js';
import { TonyPi } from './tonypi.js';
import { KINDS } from './types.js';
import { Xle } from './xle.js';

/** A LeKiwi in a known state: seed 1 and then forced where the test needs it. */
function lekiwi(soc: number, mode: Lekiwi['mode']): Lekiwi {
  const r = new Lekiwi(new Rng(1));
  r.battery.soc = soc;
  r.mode = mode;
  return r;
}

test('a driven base moves along its wheels: straight ahead, then turning', () => {
  const r = lekiwi(0.9, 'idle');
  Object.assign(r.pose, { x: 0, y: 0, theta: 0 });
  r.drive(0.3, 0.3);
  for (let i = 0; i < 100; i++) r.step(0.1); // 10 s: 0.1, 0.2 m/s while accelerating at 1 m/s², then 0.3
  assert.equal(r.mode, 'manual');
  assert.ok(Math.abs(r.pose.x - (0.01 + 0.02 + 0.3 * 9.8)) < 1e-6, `x=${r.pose.x}`);
  assert.ok(Math.abs(r.pose.y) < 1e-9);
  r.drive(0.1, 0.3); // ω = 0.2 / 0.25 = 0.8 rad/s, counter-clockwise
  for (let i = 0; i < 10; i++) r.step(0.1);
  assert.ok(r.pose.theta > 0.5 && r.pose.y > 0, `theta=${r.pose.theta} y=${r.pose.y}`);
  r.stop();
  for (let i = 0; i < 10; i++) r.step(0.1);
  assert.equal(r.left, 0);
  assert.equal(r.right, 0);
  assert.equal(r.mode, 'idle');
});

test('estop cuts the wheels and forgets the drive command', () => {
  const r = lekiwi(0.9, 'idle');
  r.drive(0.4, 0.4);
  for (let i = 0; i < 10; i++) r.step(0.1);
  r.setEstop(true);
  const before = { ...r.pose };
  for (let i = 0; i < 20; i++) r.step(0.1);
  assert.equal(r.left, 0);
  assert.ok(Math.hypot(r.pose.x - before.x, r.pose.y - before.y) < 0.1, 'only the braking distance');
  r.setEstop(false);
  const stopped = { ...r.pose };
  for (let i = 0; i < 20; i++) r.step(0.1);
  assert.deepEqual(r.pose, stopped, 'release does not resume the old command');
});

test('the battery drains faster when driving, motors heat with lag, and low battery sends it home to charge', () => {
  const moving = lekiwi(0.9, 'idle');
  const parked = lekiwi(0.9, 'idle');
  moving.drive(0.5, 0.5);
  const t0 = moving.motorTempLeft;
  for (let i = 0; i < 60; i++) {
    moving.step(1);
    parked.step(1);
    if (Math.hypot(moving.pose.x, moving.pose.y) > 5) moving.drive(-0.5, -0.5);
    if (Math.hypot(moving.pose.x, moving.pose.y) < 1) moving.drive(0.5, 0.5);
  }
  assert.ok(0.9 - moving.battery.soc > 2 * (0.9 - parked.battery.soc), 'driving drains more than idling');
  const after60 = moving.motorTempLeft;
  assert.ok(after60 > t0 + 5, `motor heats up: ${t0} → ${after60}`);
  assert.ok(after60 < 24 + 32 - 5, 'but a minute is not enough to reach steady state (τ = 3 min)');

  const r = lekiwi(0.21, 'patrol');
  Object.assign(r.pose, { x: 3, y: -2, theta: 1 });
  const modes = new Set<string>();
  let minSoc = 1;
  for (let i = 0; i < 6 * 3600; i++) {
    r.step(1);
    modes.add(r.mode);
    minSoc = Math.min(minSoc, r.battery.soc);
  }
  assert.ok(modes.has('returning') && modes.has('charging'), [...modes].join(','));
  assert.ok(minSoc > 0.15, 'made it home before running flat');
  assert.ok(r.battery.soc > 0.5, `charged (and maybe out again): ${r.battery.soc}`);
});

test('XLE works with its arm while parked, which heats the joints and draws power', () => {
  const r = new Xle(new Rng(3));
  r.battery.soc = 0.9;
  r.mode = 'patrol';
  const coldest = Math.max(...r.jointTemps);
  let sawWork = false;
  let maxArmW = 0;
  for (let i = 0; i < 600; i++) {
    r.step(0.5);
    const t = r.telemetry();
    if ((t.samples?.['task'] as string) === 'manipulate') {
      sawWork = true;
      maxArmW = Math.max(maxArmW, t.metrics['arm.power']!);
      assert.ok(Math.abs(t.metrics['wheel.left.speed']!) < 0.5, 'base slows to a stop while the arm works');
    }
  }
  assert.ok(sawWork);
  assert.ok(maxArmW > 20, `arm power ${maxArmW}`);
  assert.ok(Math.max(...r.jointTemps) > coldest + 1.5, 'joints warm up over minutes of work');
});

test('TonyPi: 16 servos in range, IMU noisy around level, rocking while walking', () => {
  const r = new TonyPi(new Rng(5));
  r.battery.soc = 0.9;
  r.activity = 'standing';
  const rolls: number[] = [];
  for (let i = 0; i < 200; i++) {
    r.step(0.05);
    rolls.push(r.roll);
  }
  const t = r.telemetry();
  const servos = t.samples?.['servos'] as { id: number; position: number; temperature: number }[];
  assert.equal(servos.length, 16);
  assert.deepEqual(
    servos.map((s) => s.id),
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  assert.ok(servos.every((s) => s.position >= 0 && s.position <= 1000 && s.temperature > 20 && s.temperature < 80));
  const spread = Math.max(...rolls) - Math.min(...rolls);
  assert.ok(spread > 0.1 && spread < 3, `standing roll noise ${spread}`);
  assert.ok(t.metrics['battery.voltage']! > 6 && t.metrics['battery.voltage']! < 8.5);

  r.activity = 'walking';
  (r as unknown as { activityLeft: number }).activityLeft = 1e9;
  const walkRolls: number[] = [];
  for (let i = 0; i < 200; i++) {
    r.step(0.05);
    walkRolls.push(r.roll);
  }
  assert.ok(Math.max(...walkRolls) - Math.min(...walkRolls) > 5, 'the gait rocks the body');
});

test('TonyPi sits on its charger below 15% and stands up when charged', () => {
  const r = new TonyPi(new Rng(9));
  r.battery.soc = 0.149;
  r.step(1);
  assert.equal(r.activity, 'charging');
  for (let i = 0; i < 4 * 3600 && r.activity === 'charging'; i++) r.step(1);
  assert.equal(r.activity, 'standing');
  assert.ok(r.battery.soc > 0.94, `left the charger at ${r.battery.soc}`);
});

test('MCU readings stay physical and follow the day', () => {
  const r = new Mcu(new Rng(11));
  const temps: number[] = [];
  for (let i = 0; i < 24 * 60; i++) {
    r.step(60);
    const m = r.telemetry().metrics;
    assert.ok(m['env.humidity']! >= 5 && m['env.humidity']! <= 98);
    assert.ok(m['wifi.rssi']! >= -95 && m['wifi.rssi']! <= -30 && Number.isInteger(m['wifi.rssi']));
    temps.push(m['env.temperature']!);
  }
  const range = Math.max(...temps) - Math.min(...temps);
  assert.ok(range > 3 && range < 20, `daily range ${range}`);
});

test('same seed, same trajectory, for every kind', () => {
  for (const kind of KINDS) {
    const run = (seed: number): unknown[] => {
      const rng = new Rng(seed);
      const spec = KIND_SPECS[kind];
      const facts = spec.facts(`${kind}-0001`, rng);
      const robot = spec.create(rng);
      const out: unknown[] = [facts];
      for (let i = 0; i < 300; i++) {
        robot.step(1);
        out.push(robot.telemetry());
      }
      return out;
    };
    assert.deepEqual(run(123), run(123), kind);
    assert.notDeepEqual(run(123), run(124), kind);
  }
});

test('every kind produces telemetry and facts the protocol accepts', () => {
  for (let n = 0; n < 10; n++) {
    const kind = kindAt('mixed', n);
    const spec = KIND_SPECS[kind];
    const rng = new Rng(n);
    const id = `${kind}-000${n}`;
    const hello = validateMessage({ v: 1, type: 'hello', device: id, seq: 1, ts: 1, payload: spec.facts(id, rng) });
    assert.ok(hello.ok, hello.ok ? '' : hello.error.message);
    const robot = spec.create(rng);
    robot.step(1);
    const tm = validateMessage({ v: 1, type: 'telemetry', device: id, seq: 2, ts: 2, payload: robot.telemetry() });
    assert.ok(tm.ok, tm.ok ? '' : `${kind}: ${tm.error.message}`);
  }
});

test('every kind declares HAL capabilities from the catalogue and reports what they describe, within range', () => {
  for (const kind of KINDS) {
    const spec = KIND_SPECS[kind];
    const declared = spec.facts(`${kind}-0001`, new Rng(7)).capabilities ?? [];
    const robot = spec.create(new Rng(7));
    for (let i = 0; i < 50; i++) robot.step(0.2);
    const { metrics, samples = {} } = robot.telemetry();
    for (const { name } of declared) {
      if (!name.startsWith('hal.')) continue; // a vendor capability, outside the catalogue
      const capability = halCapability(name);
      assert.ok(capability, `${kind} declares ${name}, which is not in the HAL catalogue`);
      for (const [metric, m] of Object.entries(capability.metrics)) {
        const value = metrics[metric];
        if (value === undefined) continue; // a capability's metrics are what it may report
        assert.ok(m.minimum === undefined || value >= m.minimum, `${kind} ${metric}=${value} < ${m.minimum}`);
        assert.ok(m.maximum === undefined || value <= m.maximum, `${kind} ${metric}=${value} > ${m.maximum}`);
      }
      for (const [sample, schema] of Object.entries(capability.samples)) {
        if (samples[sample] === undefined) continue;
        const validate = protocolAjv.compile(schema);
        assert.ok(validate(samples[sample]), `${kind} sample ${sample}: ${JSON.stringify(validate.errors)}`);
      }
    }
  }
});
