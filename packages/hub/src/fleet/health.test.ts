import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRule, listAlerts, openAlertsTestHub, sendTelemetry } from '../alerts/testing.js';
import {
  connectDevice,
  disconnectDevice,
  json,
  TEST_START,
  type ErrorBodyJson,
  type TestHub,
} from '../http/testing.js';
import type { FleetHealthSample } from '../storage/fleet-health.js';
import { ENGINES } from '../storage/testing.js';

const INTERVAL = 30_000;
const DAY = 86_400_000;

interface HealthBody {
  from: number;
  to: number;
  intervalMs: number;
  points: FleetHealthSample[];
  truncated: boolean;
}

for (const engine of ENGINES) {
  describe(`fleet health on ${engine}`, () => {
    let hub: TestHub;

    /** Moves the hub's clock by whole intervals, letting each tick's sample be stored. */
    const tick = async (n = 1): Promise<void> => {
      for (let i = 0; i < n; i++) {
        hub.clock.advance(INTERVAL);
        await hub.fleetHealth.idle();
      }
    };
    const health = async (query = ''): Promise<HealthBody> => {
      const res = await hub.inject(`/api/v1/fleet/health${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return json<HealthBody>(res);
    };

    const everything = `?from=${TEST_START}&to=${TEST_START + 10 * DAY}`;

    before(async () => {
      hub = await openAlertsTestHub(engine, { fleetHealth: { intervalMs: INTERVAL, retentionMs: DAY } });
      await hub.fleetHealth.idle();
    });
    after(() => hub.dispose());

    it('samples at start and on every interval: online, offline and alerting devices', async () => {
      const first = await health(`?from=${TEST_START}&to=${TEST_START + 1}`);
      assert.deepEqual(first.points, [{ ts: TEST_START, online: 0, offline: 0, alerting: 0 }]);
      assert.equal(first.intervalMs, INTERVAL);

      await connectDevice(hub, 'fh-1', { labels: { test: 'fh' } });
      await connectDevice(hub, 'fh-2', { labels: { test: 'fh' } });
      const session = await connectDevice(hub, 'fh-3', { labels: { test: 'fh' } });
      await disconnectDevice(hub, 'fh-3', session);
      await tick();

      await createRule(hub, {
        name: 'fh hot',
        selector: 'test=fh',
        severity: 'warning',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
      });
      await createRule(hub, {
        name: 'fh very hot',
        selector: 'test=fh',
        severity: 'critical',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 90 },
      });
      // Two alerts of one device are one device alerting.
      sendTelemetry(hub, 'fh-1', { temperature: 95 });
      assert.equal((await listAlerts(hub, 'device=fh-1&status=firing')).length, 2);
      await tick();

      const { points, truncated } = await health(everything);
      assert.equal(truncated, false);
      assert.deepEqual(points, [
        { ts: TEST_START, online: 0, offline: 0, alerting: 0 },
        { ts: TEST_START + INTERVAL, online: 2, offline: 1, alerting: 0 },
        { ts: TEST_START + 2 * INTERVAL, online: 2, offline: 1, alerting: 1 },
      ]);
    });

    it('defaults to the last hour, and gives the newest samples when the range holds more than the limit', async () => {
      await tick(3);
      const now = hub.clock.now();
      const all = await health();
      assert.equal(all.to, now);
      assert.equal(all.from, now - 3_600_000);
      // `to` is exclusive: the sample taken at this very ms is not in yet.
      assert.deepEqual(
        all.points.map((p) => p.ts),
        [0, 1, 2, 3, 4].map((i) => TEST_START + i * INTERVAL),
      );
      const newest = await health(`?from=${new Date(TEST_START).toISOString()}&to=${now + 1}&limit=2`);
      assert.equal(newest.truncated, true);
      assert.deepEqual(
        newest.points.map((p) => p.ts),
        [now - INTERVAL, now],
      );
      const viewer = await hub.tokenFor('viewer');
      const res = await hub.app.inject({ url: '/api/v1/fleet/health', headers: { authorization: `Bearer ${viewer}` } });
      assert.equal(res.statusCode, 200, 'viewers read fleet health');
    });

    it('answers a bad query with 400 bad_request', async () => {
      for (const query of [
        '?from=yesterday',
        '?to=1700000000000&from=1700000000000',
        '?limit=0',
        '?limit=x',
        '?since=1',
      ]) {
        const res = await hub.inject(`/api/v1/fleet/health${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        assert.equal(json<ErrorBodyJson>(res).error.code, 'bad_request', query);
      }
      const anonymous = await hub.app.inject({ url: '/api/v1/fleet/health' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('stops sampling when another hub leads, carries on at once when leading again, and forgets old samples', async () => {
      const before = (await health(everything)).points.length;
      hub.fleetHealth.follow();
      assert.equal(hub.fleetHealth.leading, false);
      await tick(2);
      assert.equal((await health(everything)).points.length, before, 'a follower does not sample');
      hub.fleetHealth.lead();
      await hub.fleetHealth.idle();
      assert.equal((await health(everything)).points.length, before + 1, 'a new leader samples at once');

      // A day and a bit later, the retention pass removes what is older than a day.
      // (The manual clock runs a day of ticks at once: the first one's sample is still being
      // stored when the others come, and they are skipped. One more tick samples a day later.)
      hub.clock.advance(DAY);
      await hub.fleetHealth.idle();
      await tick();
      const kept = await hub.storage.fleetHealth.range({ from: 0, to: hub.clock.now() + 1, limit: 1000 });
      assert.ok(kept.length > 0);
      assert.ok(
        kept.every((p) => p.ts >= hub.clock.now() - DAY),
        JSON.stringify(kept.map((p) => p.ts - TEST_START)),
      );
    });
  });
}
