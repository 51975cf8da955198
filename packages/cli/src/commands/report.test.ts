import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '@flotilla/sdk';
import { startSimHub, until, type SimHub } from '../testing/sim-hub.js';

/** `flotilla report` and `flotilla reports` against a real hub with two simulated LeKiwi robots. */
let hub: SimHub;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-report-'));
  hub = await startSimHub('lekiwi', 2);
  await until(
    async () => (await hub.client().telemetry('lekiwi-0002', { metric: 'battery.soc' })).points.length >= 2,
    'battery points stored',
  );
});
after(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('report writes a PDF of the fleet, prints its summary, and reports lists it', async () => {
  const file = join(dir, 'fleet.pdf');
  const run = await hub.cli(['report', '--since', '10m', '--out', file]);
  assert.equal(run.code, 0, run.err);
  const [summary, written] = run.out.trimEnd().split('\n');
  assert.match(summary ?? '', /^Fleet report over \d{4}-\d\d-\d\d \d\d:\d\d.* UTC: 2 devices\. Fleet uptime was /);
  assert.match(summary ?? '', /Battery \(battery\.soc\) averaged [\d.]+/);
  assert.match(written ?? '', /^Report [0-9a-f-]{36} written to .*fleet\.pdf$/);
  const pdf = readFileSync(file);
  assert.equal(pdf.subarray(0, 8).toString('latin1'), '%PDF-1.7');
  assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF\s*$/);
  assert.match(pdf.toString('latin1'), /\/Type \/Page\b/);

  const list = await hub.cli(['reports']);
  assert.equal(list.code, 0, list.err);
  const [header, row] = list.out.trimEnd().split('\n');
  assert.match(header ?? '', /^ID +SCOPE +FROM +TO +STATUS +CREATED +BY$/);
  assert.match(row ?? '', /^[0-9a-f-]{36} +fleet +\S+Z +\S+Z +ready +.* +user:admin$/);
});

test('report on one device as HTML, and as JSON with its statistics', async () => {
  const file = join(dir, 'robot.html');
  const html = await hub.cli(['report', '--device', 'lekiwi-0001', '--since', '10m', '--out', file]);
  assert.equal(html.code, 0, html.err);
  assert.match(html.out, /^Report for device lekiwi-0001 over /);
  const page = readFileSync(file, 'utf8');
  assert.match(page, /<h1>Device report: lekiwi-0001<\/h1>/);
  assert.match(page, /<svg /);

  const json = await hub.cli(['report', '--since', '10m', '--json']);
  assert.equal(json.code, 0, json.err);
  const report = JSON.parse(json.out) as Report;
  assert.equal(report.status, 'ready');
  assert.equal(report.statistics?.devices, 2);
  assert.ok((report.statistics?.battery.points ?? 0) >= 2);
  assert.ok((report.statistics?.uptime.fraction ?? 0) > 0.9, 'both robots were online since they registered');
  assert.deepEqual([report.statistics?.alerts.available, report.statistics?.alerts.total], [true, 0], 'no rules: none');

  const listed = JSON.parse((await hub.cli(['reports', '--json'])).out) as Report[];
  assert.equal(listed.length, 3);
  assert.ok(listed.every((r) => r.status === 'ready' && !('statistics' in r)));
});

test('bad input is one line and a non-zero exit', async () => {
  const both = await hub.cli(['report', '--device', 'a', '--selector', 'site=lab']);
  assert.equal(both.code, 2);
  assert.match(both.err, /give --device or --selector, not both/);
  const ext = await hub.cli(['report', '--out', join(dir, 'r.txt')]);
  assert.equal(ext.code, 2);
  assert.match(ext.err, /--out must end in \.pdf, \.html or \.json/);
  const since = await hub.cli(['report', '--since', 'yesterday']);
  assert.equal(since.code, 2);
  const ghost = await hub.cli(['report', '--device', 'ghost']);
  assert.equal(ghost.code, 1);
  assert.match(ghost.err, /^flotilla report: .*no device ghost.*\n$/);
  const selector = await hub.cli(['report', '--selector', 'site in (']);
  assert.equal(selector.code, 2, 'the hub refuses the request as written (400)');
  assert.match(selector.err, /^flotilla report: selector: cannot parse/);
});
