import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sparkline } from '../format/sparkline.js';
import { startSimHub, until, type SimHub } from '../testing/sim-hub.js';

test('a sparkline has one character per bucket, scaled between min and max, blank where silent', () => {
  const points = [
    { ts: 0, value: 10 },
    { ts: 1000, value: 20 },
    { ts: 3000, value: 15 },
  ];
  assert.equal(sparkline(points, 0, 4000, 1000), '▁█ ▅');
  assert.equal(sparkline([{ ts: 500, value: 3 }], 0, 2000, 1000), '▅ ');
  assert.equal(sparkline([], 0, 3000, 1000), '   ');
});

/** `flotilla telemetry` against a real hub whose simulated LeKiwi reports its battery every second. */
let hub: SimHub;
before(async () => {
  hub = await startSimHub('lekiwi', 1);
  await until(
    async () => (await hub.client().telemetry('lekiwi-0001', { metric: 'battery.soc' })).points.length >= 2,
    'two battery points stored',
  );
});
after(() => hub.stop());

test('telemetry prints a sparkline with min, max and last; --table and --json too', async () => {
  const spark = await hub.cli(['telemetry', 'lekiwi-0001', 'battery.soc', '--since', '1m', '--bucket', '1s']);
  assert.equal(spark.code, 0, spark.err);
  const [title, line, stats] = spark.out.split('\n');
  assert.equal(title, 'lekiwi-0001 battery.soc (avg per 1s, from raw)');
  // 60 one-second buckets, widened by the hub to whole buckets: 60 or 61 characters.
  assert.ok(line?.length === 60 || line?.length === 61, `${line?.length} characters`);
  assert.match(line ?? '', /[▁▂▃▄▅▆▇█]/);
  assert.match(stats ?? '', /^min [\d.]+ {2}max [\d.]+ {2}last [\d.]+$/);

  const table = await hub.cli([
    'telemetry',
    'lekiwi-0001',
    'battery.soc',
    '--since',
    '1m',
    '--bucket',
    '1s',
    '--table',
  ]);
  assert.equal(table.code, 0, table.err);
  const rows = table.out.trimEnd().split('\n');
  assert.match(rows[0] ?? '', /^TIME +BATTERY\.SOC$/);
  assert.ok(rows.length >= 3, table.out);
  assert.ok(
    rows.slice(1).every((r) => /^\d{4}-\d\d-\d\dT\S+ +[\d.]+$/.test(r)),
    table.out,
  );

  const json = await hub.cli(['telemetry', 'lekiwi-0001', 'battery.soc', '--json']);
  const series = JSON.parse(json.out) as { metric: string; bucketMs: number; agg: string };
  assert.deepEqual([series.metric, series.bucketMs, series.agg], ['battery.soc', 60_000, 'avg']);
});

test('bad input is one line and a non-zero exit', async () => {
  const missing = await hub.cli(['telemetry', 'lekiwi-0001']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /give a device ID and a METRIC/);
  const badAgg = await hub.cli(['telemetry', 'lekiwi-0001', 'battery.soc', '--agg', 'median']);
  assert.equal(badAgg.code, 2);
  const unknown = await hub.cli(['telemetry', 'nobody', 'battery.soc']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /^flotilla telemetry: .*nobody.*\n$/);
  const silent = await hub.cli(['telemetry', 'lekiwi-0001', 'no.such.metric']);
  assert.equal(silent.code, 0, silent.err);
  assert.equal(silent.out, 'lekiwi-0001 no.such.metric: no points in this range\n');
});
