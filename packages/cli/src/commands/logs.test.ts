import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LogLine } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';
import { startSimHub, until, type SimHub } from '../testing/sim-hub.js';

/** `flotilla logs` against a real hub whose simulated LeKiwi logs what its commands do. */
let hub: SimHub;
const ID = 'lekiwi-0001';
const estop = (command: 'engage' | 'release') =>
  hub.client().sendCommand(ID, { capability: 'hal.v1.estop', command, args: {} });

before(async () => {
  hub = await startSimHub('lekiwi', 1);
  await estop('engage');
  await until(async () => (await hub.client().deviceLogs(ID)).items.length >= 1, 'the robot logged the e-stop');
});
after(() => hub.stop());

test('logs prints the latest lines, filtered by level and text; --json gives the lines', async () => {
  const warn = await hub.cli(['logs', ID, '--level', 'warn']);
  assert.equal(warn.code, 0, warn.err);
  assert.match(warn.out, /^\d{4}-\d\d-\d\dT\S+ {2}WARN {3}emergency stop engaged: motors cut {2}mode=\w+\n$/);
  const none = await hub.cli(['logs', ID, '--grep', 'no such text']);
  assert.equal(none.code, 0);
  assert.equal(none.out, '');
  assert.equal(none.err, 'No log lines match.\n');
  const json = await hub.cli(['logs', '--selector', 'kind=lekiwi', '--json']);
  const lines = JSON.parse(json.out) as LogLine[];
  assert.ok(lines.some((l) => l.device === ID && l.level === 'warn'));
  const missing = await hub.cli(['logs', 'ghost-1']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /no device ghost-1/);
});

test('logs --follow prints history, then live lines as the robot logs them, and stops cleanly on Ctrl-C', async () => {
  const io = testIo({ env: { FLOTILLA_HUB: hub.url, FLOTILLA_TOKEN: hub.token }, now: Date.now() });
  const done = main(['logs', ID, '--follow', '--grep', 'emergency'], io);
  await io.waitForOutput('emergency stop engaged');
  await estop('release');
  await io.waitForOutput('emergency stop released');
  io.signal();
  assert.equal(await done, 0, io.err());
  const printed = io.out().trimEnd().split('\n');
  assert.equal(printed.filter((l) => l.includes('emergency stop engaged')).length, 1, 'history not repeated live');
  assert.match(printed.at(-1) ?? '', /INFO {3}emergency stop released$/);
});
