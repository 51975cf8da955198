import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimHub, until, type SimHub } from '../testing/sim-hub.js';

/** `flotilla alert-rules` and `flotilla alerts` against a real hub whose simulated LeKiwi reports its battery every second. */
let hub: SimHub;
let dir: string;
before(async () => {
  hub = await startSimHub('lekiwi', 1);
  dir = mkdtempSync(join(tmpdir(), 'flotilla-alert-rules-'));
});
after(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => hub.cli(argv);

test('a rule made from flags fires on live telemetry; the alert is acknowledged, shown and resolved', async () => {
  assert.match((await cli(['alert-rules'])).out, /^No alert rules yet/);
  const created = await cli([
    'alert-rules',
    'create',
    '--name',
    'soc watch',
    '--severity',
    'critical',
    '--when',
    'battery.soc below 101',
  ]);
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /^Created alert rule soc watch \(\S+\): battery\.soc below 101\n$/);

  await until(async () => (await hub.client().alerts.list()).items.length === 1, 'the alert');
  const listed = await cli(['alerts']);
  assert.equal(listed.code, 0, listed.err);
  const [header, row] = listed.out.split('\n');
  assert.match(header ?? '', /^ID +DEVICE +RULE +SEVERITY +STATUS +STARTED +SUMMARY$/);
  assert.match(
    row ?? '',
    /^\S+ +lekiwi-0001 +soc watch +critical +firing +.+ +lekiwi-0001: battery\.soc [\d.]+ < 101$/,
  );
  const id = row?.split(' ')[0] ?? '';

  const acked = await cli(['alerts', 'ack', id]);
  assert.equal(acked.out, `soc watch on lekiwi-0001 is acknowledged (${id}).\n`);
  const shown = await cli(['alerts', 'show', id]);
  assert.match(shown.out, /^soc watch on lekiwi-0001: acknowledged \(critical\)\n/);
  assert.match(shown.out, /AlertFired by system\n.*AlertAcknowledged by user:admin\n/);
  const resolved = await cli(['alerts', 'resolve', id, '--json']);
  assert.equal((JSON.parse(resolved.out) as { status: string }).status, 'resolved');
  assert.equal((await cli(['alerts'])).out, 'No alert is firing or acknowledged.\n');
  assert.equal((JSON.parse((await cli(['alerts', '--all', '--json'])).out) as unknown[]).length, 1);

  const again = await cli(['alerts', 'resolve', id]);
  assert.equal(again.code, 1);
  assert.match(again.err, /^flotilla alerts: alert \S+ was resolved \(manual\)\n$/);
});

test('rules come from a JSON file too (the resource form included), and are listed, disabled and deleted by name', async () => {
  const file = join(dir, 'offline.json');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'flotilla/v1',
      kind: 'AlertRule',
      metadata: { name: 'gone quiet' },
      spec: {
        severity: 'warning',
        selector: 'site=lab',
        condition: {
          or: [
            { type: 'offline', for: '5m' },
            { type: 'no_data', for: '10m' },
          ],
        },
      },
    }),
  );
  const created = await cli(['alert-rules', 'create', '-f', file]);
  assert.equal(created.code, 0, created.err);
  const list = await cli(['alert-rules']);
  assert.match(list.out, /^NAME +SEVERITY +ENABLED +DEVICES +WEBHOOKS +ID +CONDITION\n/);
  assert.match(list.out, /\ngone quiet +warning +yes +site=lab +0 +\S+ +offline for 5m or no-data for 10m\n/);

  const disabled = await cli(['alert-rules', 'disable', 'gone quiet']);
  assert.equal(disabled.out, 'Alert rule gone quiet is disabled.\n');
  assert.match((await cli(['alert-rules'])).out, /\ngone quiet +warning +no /);
  const deleted = await cli(['alert-rules', 'delete', 'gone quiet']);
  assert.match(deleted.out, /^Deleted alert rule gone quiet/);
  const missing = await cli(['alert-rules', 'delete', 'gone quiet']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no alert rule with the id or name "gone quiet"/);
});

test('bad input is one line and a non-zero exit', async () => {
  const syntax = await cli(['alert-rules', 'create', '--name', 'x', '--severity', 'info', '--when', 'temp >> 3']);
  assert.equal(syntax.code, 2);
  assert.match(syntax.err, /^flotilla alert-rules: --when "temp >> 3": the value must be a number/);
  const invalid = await cli([
    'alert-rules',
    'create',
    '--name',
    'x',
    '--severity',
    'info',
    '--when',
    'temp > 70 clear 80',
  ]);
  assert.equal(invalid.code, 2, 'the hub refused the rule as written: a usage error');
  assert.match(
    invalid.err,
    /^flotilla alert-rules: condition\.clear: must be at or below the trigger value 70 for > \(see/,
  );
  const notJson = join(dir, 'bad.json');
  writeFileSync(notJson, '{nope');
  assert.equal((await cli(['alert-rules', 'create', '-f', notJson])).code, 2);
  assert.equal((await cli(['alert-rules', 'frobnicate'])).code, 2);
  assert.equal((await cli(['alerts', 'ack'])).code, 2);
  assert.equal((await cli(['alerts', '--status', 'burning'])).code, 2);
  const unknown = await cli(['alerts', 'show', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /^flotilla alerts: no alert nope\n$/);
});
