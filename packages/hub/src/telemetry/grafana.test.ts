import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openStorage } from '../storage/open.js';
import { createTestTarget, type TestTarget } from '../storage/testing.js';
import type { Storage } from '../storage/types.js';

/**
 * The shipped Grafana dashboard (dashboards/grafana/flotilla.json, docs/grafana.md) runs every
 * panel's and variable's SQL against a PostgreSQL database migrated to the current schema, with
 * Grafana's macros and the dashboard's variables substituted as Grafana would. A schema change
 * that breaks the dashboard fails here, not in someone's Grafana.
 */

interface Target {
  rawSql: string;
}
interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../../dashboards/grafana/flotilla.json', import.meta.url), 'utf8'),
) as Dashboard;

const MIN = 60_000;
/** A whole hour, so the hour of data is six whole buckets of the panels' 10 min interval. */
const FROM = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
const TO = FROM + 3_600_000;

/** Grafana's macros and the dashboard variables, as Grafana hands them to PostgreSQL. */
function substitute(text: string): string {
  const out = text
    .replaceAll('$__unixEpochFrom()', String(FROM / 1000))
    .replaceAll('$__unixEpochTo()', String(TO / 1000))
    .replaceAll('$__interval_ms', String(10 * MIN))
    .replaceAll('$battery_metric', 'battery.soc')
    .replaceAll('$temperature_metric', 'system.temperature')
    .replaceAll('$device', 'r1')
    // Multi-value variables are quoted by Grafana's SQL data sources.
    .replaceAll('$metric', "'battery.soc'");
  assert.doesNotMatch(out, /\$/, `a macro or variable this test does not know: ${out}`);
  return out;
}

describe('Grafana dashboard on postgres', () => {
  let target: TestTarget;
  let storage: Storage;
  let client: pg.Client;

  before(async () => {
    target = await createTestTarget('postgres');
    storage = await openStorage(target.options);
    // Two devices, one point a minute for the hour.
    const writes = [];
    for (const [device, offset] of [
      ['r1', 0],
      ['r2', 10],
    ] as const) {
      for (let m = 0; m < 60; m++) {
        writes.push({
          device,
          seq: m,
          ts: FROM + m * MIN,
          points: [
            { metric: 'battery.soc', value: 80 - m / 10 + offset },
            { metric: 'system.temperature', value: 40 + offset },
          ],
          samples: [],
        });
      }
    }
    await storage.telemetry.write(writes);
    await storage.telemetry.rollup(0);
    client = new pg.Client({ connectionString: target.options.databaseUrl });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await storage.close();
    await target.cleanup();
  });

  const query = async (text: string) => (await client.query(substitute(text))).rows as Record<string, unknown>[];

  it('reads every panel from the data source variable', () => {
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.deepEqual(panel.datasource, { type: 'grafana-postgresql-datasource', uid: '${datasource}' }, panel.title);
    }
  });

  it('lists devices and their metrics for the variables', async () => {
    const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const devices = await query(byName.get('device')?.query ?? '');
    assert.deepEqual(
      devices.map((r) => Object.values(r)[0]),
      ['r1', 'r2'],
    );
    const metrics = await query(byName.get('metric')?.query ?? '');
    assert.deepEqual(
      metrics.map((r) => Object.values(r)[0]),
      ['battery.soc', 'system.temperature'],
    );
  });

  it('runs every panel query, and the time series panels find the hour of data', async () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 8);
    const found = new Map<string, Record<string, unknown>[]>();
    for (const panel of panels) {
      for (const t of panel.targets ?? []) found.set(panel.title, await query(t.rawSql));
    }
    assert.deepEqual(found.get('Points ingested in range'), [{ points: '240' }]);
    const battery = found.get('Fleet battery') ?? [];
    assert.equal(battery.length, 6);
    // First 10 minutes: r1 80 … 79.1, r2 90 … 89.1: average 84.55, lowest 79.1.
    assert.equal(Number(battery[0]?.['average']).toFixed(2), '84.55');
    assert.equal(battery[0]?.['lowest'], 79.1);
    assert.equal(found.get('Fleet temperature')?.[0]?.['highest'], 50);
    assert.equal(found.get('Points ingested per second')?.length, 60);
    const device = found.get('$metric') ?? [];
    assert.equal(device.length, 6);
    assert.equal(Number(device[0]?.['value']).toFixed(2), '79.55');
  });
});
