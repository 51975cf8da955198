import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  HAL_CAPABILITIES,
  HalErrorCodes,
  halCapability,
  halDocuments,
  resolveCommand,
  validateCommand,
} from './catalogue.js';
import { breakingChanges } from './compat.js';
import { checkLock, type HalLock } from './lock.js';
import { capabilityDocument, type CapabilityDocument } from './spec.js';

const lockFile = new URL('../../hal.lock.json', import.meta.url);
const clone = <T>(value: T): T => structuredClone(value);
const doc = (name: string): CapabilityDocument => {
  const spec = halCapability(name);
  assert.ok(spec, name);
  return capabilityDocument(spec);
};

test('the catalogue has every capability the issue names, the commands DESIGN.md promises, and unique names', () => {
  const names = HAL_CAPABILITIES.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const name of [
    'hal.v1.motor.differential',
    'hal.v1.motor.servo',
    'hal.v1.motor.stepper',
    'hal.v1.sensor.range',
    'hal.v1.sensor.imu',
    'hal.v1.sensor.temperature',
    'hal.v1.sensor.gps',
    'hal.v1.camera',
    'hal.v1.gripper',
    'hal.v1.led',
    'hal.v1.relay',
    'hal.v1.battery',
    'hal.v1.estop',
    'hal.v2.led',
  ]) {
    assert.ok(halCapability(name), name);
  }
  assert.deepEqual(Object.keys(halCapability('hal.v1.motor.differential')?.commands ?? {}), ['drive', 'stop']);
  assert.deepEqual(Object.keys(halCapability('hal.v1.estop')?.commands ?? {}), ['engage', 'release']);
  assert.equal(halCapability('hal.v1.estop')?.commands['engage']?.priority, 'critical');
  assert.ok(halCapability('hal.v1.led')?.commands['set']);
  // Every command of every capability compiles and accepts an example built from its schema's required fields.
  for (const spec of HAL_CAPABILITIES) {
    for (const command of Object.keys(spec.commands)) {
      const result = validateCommand(spec.name, command, {});
      const required = (spec.commands[command]?.args.required ?? []) as string[];
      assert.equal(result.ok, required.length === 0, `${spec.name} ${command}`);
    }
  }
});

test('validateCommand: the capability, the command and the args, each refused with its own code and a precise message', () => {
  const ok = validateCommand('hal.v1.motor.differential', 'drive', { left: 0.5, right: -0.5 });
  assert.deepEqual(ok, {
    ok: true,
    value: {
      capability: 'hal.v1.motor.differential',
      command: 'drive',
      args: { left: 0.5, right: -0.5 },
      priority: 'normal',
    },
  });
  assert.equal(validateCommand('hal.v1.estop', 'engage', {}).ok && 'critical', 'critical');

  const refusal = (capability: string, command: string, args: unknown) => {
    const r = validateCommand(capability, command, args);
    assert.equal(r.ok, false);
    return r.ok ? undefined : r.error;
  };
  assert.equal(refusal('hal.v1.teleporter', 'go', {})?.code, HalErrorCodes.UNKNOWN_CAPABILITY);
  assert.deepEqual(refusal('hal.v1.estop', 'explode', {}), {
    code: HalErrorCodes.UNKNOWN_COMMAND,
    message: 'hal.v1.estop has no command explode (it has engage, release)',
  });
  assert.deepEqual(refusal('hal.v1.motor.differential', 'drive', { left: 0.5, right: 99 }), {
    code: HalErrorCodes.BAD_ARGS,
    message: 'hal.v1.motor.differential drive: args /right must be <= 20',
  });
  assert.match(
    refusal('hal.v1.motor.differential', 'drive', { left: 1 })?.message ?? '',
    /must have required property 'right'/,
  );
  assert.match(refusal('hal.v1.led', 'set', { on: true, colour: '#fff' })?.message ?? '', /unknown property 'colour'/);
  assert.match(refusal('hal.v1.led', 'set', { on: true, color: 'red' })?.message ?? '', /\/color must match pattern/);
  assert.equal(refusal('hal.v1.led', 'set', 'on')?.code, HalErrorCodes.BAD_ARGS);
});

test('resolveCommand: as written for a device that declared it, upcast for one that declared only v2, refused otherwise', () => {
  const v1Set = { capability: 'hal.v1.led', command: 'set', args: { on: true, color: '#ff8000' } };
  assert.deepEqual(resolveCommand(v1Set, [{ name: 'hal.v1.led' }]), {
    ok: true,
    value: { ...v1Set, priority: 'normal' },
  });
  assert.deepEqual(resolveCommand(v1Set, [{ name: 'hal.v2.led', version: '2.0.0' }]), {
    ok: true,
    value: {
      capability: 'hal.v2.led',
      command: 'set',
      args: { on: true, rgb: { r: 255, g: 128, b: 0 }, brightness: 1 },
      priority: 'normal',
    },
  });
  assert.deepEqual(resolveCommand({ ...v1Set, args: { on: false } }, [{ name: 'hal.v2.led' }]), {
    ok: true,
    value: { capability: 'hal.v2.led', command: 'set', args: { on: false }, priority: 'normal' },
  });
  // Both declared: the device gets what the client wrote.
  assert.equal(
    (resolveCommand(v1Set, [{ name: 'hal.v2.led' }, { name: 'hal.v1.led' }]) as { value: { capability: string } }).value
      .capability,
    'hal.v1.led',
  );
  const missing = resolveCommand(v1Set, [{ name: 'hal.v1.battery' }]);
  assert.deepEqual(missing, {
    ok: false,
    error: { code: HalErrorCodes.CAPABILITY_NOT_DECLARED, message: 'the device did not declare hal.v1.led' },
  });
  // What the device lacks comes before what the arguments get wrong.
  const both = resolveCommand({ ...v1Set, args: { on: 'yes' } }, [{ name: 'hal.v1.battery' }]);
  assert.equal(both.ok ? undefined : both.error.code, HalErrorCodes.CAPABILITY_NOT_DECLARED);
  // Bad args are refused before any upcast.
  const bad = resolveCommand({ ...v1Set, args: { on: 'yes' } }, [{ name: 'hal.v2.led' }]);
  assert.equal(bad.ok ? undefined : bad.error.code, HalErrorCodes.BAD_ARGS);
});

test('breakingChanges: arguments may only widen, results and samples only narrow, nothing is removed', () => {
  const base = doc('hal.v1.motor.differential');
  assert.deepEqual(breakingChanges(base, base), []);

  const compatible = clone(base);
  const drive = compatible.commands['drive']!;
  (drive.args['properties'] as Record<string, object>)['rampMs'] = { type: 'integer', minimum: 0 };
  (drive.args['properties'] as Record<string, Record<string, number>>)['left']!['maximum'] = 50;
  compatible.commands['coast'] = {
    description: 'let go',
    args: { type: 'object', additionalProperties: false, properties: {} },
  };
  compatible.metrics['wheel.left.current'] = { unit: 'A', description: 'motor current' };
  assert.deepEqual(breakingChanges(base, compatible), []);

  const breaking = clone(base);
  const args = breaking.commands['drive']!.args as {
    properties: Record<string, Record<string, unknown>>;
    required: string[];
  };
  args.properties['right']!['maximum'] = 5;
  args.properties['rampMs'] = { type: 'integer' };
  args.required.push('rampMs');
  delete breaking.commands['stop'];
  breaking.metrics['pose.theta'] = { unit: 'deg', description: 'heading' };
  delete breaking.metrics['pose.x'];
  (breaking.samples['pose'] as { properties: Record<string, unknown> }).properties['theta'] = { type: 'string' };
  assert.deepEqual(breakingChanges(base, breaking).sort(), [
    'command drive args.right: maximum lowered to 5',
    'command drive args: rampMs became required',
    'command stop was removed',
    'metric pose.theta changed unit from rad to deg',
    'metric pose.x was removed',
    'sample pose.theta: type string became number',
  ]);

  const led = doc('hal.v1.led');
  const removedArg = clone(led);
  delete (removedArg.commands['set']!.args['properties'] as Record<string, unknown>)['color'];
  assert.deepEqual(breakingChanges(led, removedArg), ['command set args: color was removed']);

  const estop = doc('hal.v1.estop');
  const widerResult = clone(estop);
  widerResult.commands['engage']!.result = { type: 'object', properties: { engaged: { type: 'boolean' } } };
  delete widerResult.commands['engage']!.priority;
  assert.deepEqual(breakingChanges(estop, widerResult), [
    'command engage result: engaged became required',
    'command engage result.engaged: allows fewer values',
    'command engage changed priority',
  ]);
});

test('hal.lock.json records every capability as it is, and the check catches what the lock forbids', () => {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as HalLock;
  assert.deepEqual(
    checkLock(lock, halDocuments()),
    { problems: [], unrecorded: [] },
    'run `npm run hal:lock -w @flotilla/protocol` after adding a capability version',
  );

  const current = halDocuments().map(clone);
  const led = current.find((c) => c.name === 'hal.v1.led')!;
  (led.commands['set']!.args['properties'] as Record<string, object>)['blinkMs'] = { type: 'integer' };
  assert.deepEqual(checkLock(lock, current).problems, ['hal.v1.led: changed without a version bump (still 1.0.0)']);
  led.version = '1.1.0';
  assert.deepEqual(checkLock(lock, current), { problems: [], unrecorded: ['hal.v1.led 1.1.0'] });
  (led.commands['set']!.args['required'] as string[]).push('color');
  assert.match(
    checkLock(lock, current).problems.join('\n'),
    /hal.v1.led 1.0.0 → 1.1.0: command set args: color became required \(a breaking change needs a new major: a hal.v2 capability/,
  );

  const withoutGps = halDocuments().filter((c) => c.name !== 'hal.v1.sensor.gps');
  assert.deepEqual(checkLock(lock, withoutGps).problems, [
    'hal.v1.sensor.gps: published capabilities are never removed',
  ]);
  const badVersion = halDocuments().map((c) => (c.name === 'hal.v2.led' ? { ...c, version: '1.0.0' } : c));
  assert.ok(checkLock(lock, badVersion).problems.includes('hal.v2.led: version 1.0.0 must be semver with major 2'));
});
