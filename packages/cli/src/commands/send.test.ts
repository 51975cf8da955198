import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimHub, type SimHub } from '../testing/sim-hub.js';
import { splitTarget } from './send.js';

/** `flotilla send` against a real hub running simulated LeKiwis, which answer commands with their physics. */
let hub: SimHub;
before(async () => {
  hub = await startSimHub('lekiwi', 2);
});
after(() => hub.stop());

const send = (argv: string[]) => hub.cli(['send', ...argv]);

test('CAPABILITY.COMMAND splits at the last dot', () => {
  assert.deepEqual(splitTarget('hal.v1.motor.differential.drive'), {
    capability: 'hal.v1.motor.differential',
    command: 'drive',
  });
  assert.throws(() => splitTarget('drive'), /is not CAPABILITY.COMMAND/);
  assert.throws(() => splitTarget('hal.v1.estop.'), /is not CAPABILITY.COMMAND/);
});

test('send drives a simulated robot and prints its result; --json prints the record', async () => {
  const drive = await send(['lekiwi-0001', 'hal.v1.motor.differential.drive', '--args', '{"left":0.1,"right":0.1}']);
  assert.equal(drive.code, 0, drive.err);
  assert.match(drive.out, /^lekiwi-0001: succeeded in \d+ ms: \{"left":0\.1,"right":0\.1\}\n$/);

  const json = await send(['lekiwi-0001', 'hal.v1.motor.differential.stop', '--json']);
  assert.equal(json.code, 0, json.err);
  const record = JSON.parse(json.out) as { status: string; actor: string; capability: string };
  assert.equal(record.status, 'succeeded');
  assert.equal(record.actor, 'user:admin');
});

test('a refused or failed command is one line on stderr and a non-zero exit', async () => {
  const bad = await send(['lekiwi-0001', 'hal.v1.motor.differential.drive', '--args', '{"left":0.1}']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^flotilla send: .*required property 'right'.*\n$/);
  const undeclared = await send(['lekiwi-0001', 'hal.v1.led.set', '--args', '{"on":true}']);
  assert.equal(undeclared.code, 1);
  assert.match(undeclared.err, /^flotilla send: lekiwi-0001: the device did not declare hal\.v1\.led\n$/);
  const notJson = await send(['lekiwi-0001', 'hal.v1.estop.engage', '--args', '{on']);
  assert.equal(notJson.code, 2);
  assert.match(notJson.err, /^flotilla send: --args is not JSON/);
  const missing = await send(['lekiwi-0001']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing CAPABILITY.COMMAND/);

  // The robot refuses to drive while its e-stop is engaged: the device's own error comes back.
  assert.equal((await send(['lekiwi-0002', 'hal.v1.estop.engage'])).code, 0);
  const refused = await send(['lekiwi-0002', 'hal.v1.motor.differential.drive', '--args', '{"left":0.1,"right":0.1}']);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /^lekiwi-0002: failed in \d+ ms: estop_engaged: /);
  assert.equal((await send(['lekiwi-0002', 'hal.v1.estop.release'])).code, 0);
});

test('--selector sends to every matching robot and prints a row each', async () => {
  const all = await send(['--selector', 'kind=lekiwi', 'hal.v1.estop.release']);
  assert.equal(all.code, 0, all.err);
  const lines = all.out.trimEnd().split('\n');
  assert.equal(lines[0], 'DEVICE       OUTCOME');
  assert.deepEqual(
    lines
      .slice(1)
      .map((l) => l.split(/\s+/)[0])
      .sort(),
    ['lekiwi-0001', 'lekiwi-0002'],
  );
  assert.ok(
    lines.slice(1).every((l) => /succeeded in \d+ ms/.test(l)),
    all.out,
  );
  const none = await send(['--selector', 'kind=submarine', 'hal.v1.estop.engage']);
  assert.equal(none.code, 1);
  assert.equal(none.err, 'flotilla send: no device matches kind=submarine\n');
});
