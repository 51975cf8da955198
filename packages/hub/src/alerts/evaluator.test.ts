import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDevice, disconnectDevice, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';
import { alertsOf, createRule, openAlertsTestHub, sendTelemetry } from './testing.js';

const S = 1000;
const MIN = 60 * S;

/**
 * The evaluator against a whole hub on each engine: rules through the API, telemetry on the bus
 * as the gateways publish it, presence through the registry, time on the hub's ManualClock.
 * Each test has its own devices and a rule scoped to them by label, so tests share one hub.
 */
for (const engine of ENGINES) {
  describe(`alert evaluator on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openAlertsTestHub(engine);
    });
    after(() => hub.dispose());

    const device = (id: string, test: string) => connectDevice(hub, id, { type: 'lekiwi', labels: { test } });

    it('fires a threshold only after it held for its `for`, and a value back under it resets the wait', async () => {
      await device('for-1', 'for');
      const rule = await createRule(hub, {
        name: 'hot for 30s',
        selector: 'test=for',
        severity: 'warning',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70, for: '30s' },
      });
      sendTelemetry(hub, 'for-1', { temperature: 75 });
      hub.clock.advance(20 * S);
      sendTelemetry(hub, 'for-1', { temperature: 60 }); // back under: the wait starts over
      hub.clock.advance(20 * S);
      sendTelemetry(hub, 'for-1', { temperature: 72 });
      hub.clock.advance(29 * S);
      assert.deepEqual(await alertsOf(hub, rule), [], 'not yet: 29 s of the 30');
      hub.clock.advance(1 * S);
      const [alert] = await alertsOf(hub, rule);
      assert.equal(alert?.status, 'firing');
      assert.equal(alert?.device, 'for-1');
      assert.equal(alert?.severity, 'warning');
      assert.match(alert?.summary ?? '', /temperature 72 > 70 for 30s/);
    });

    it('keeps firing inside the hysteresis band and resolves past the clear level', async () => {
      await device('hyst-1', 'hyst');
      const rule = await createRule(hub, {
        name: 'hot with hysteresis',
        selector: 'test=hyst',
        severity: 'critical',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70, clear: 65 },
      });
      sendTelemetry(hub, 'hyst-1', { temperature: 71 });
      assert.equal((await alertsOf(hub, rule))[0]?.status, 'firing');
      for (const t of [69, 66, 65, 70.5, 65]) sendTelemetry(hub, 'hyst-1', { temperature: t });
      const still = await alertsOf(hub, rule);
      assert.equal(still.length, 1, 'no flapping between 65 and 70');
      assert.equal(still[0]?.status, 'firing');
      sendTelemetry(hub, 'hyst-1', { temperature: 64.9 });
      const [resolved] = await alertsOf(hub, rule);
      assert.equal(resolved?.status, 'resolved');
      assert.equal(resolved?.resolution, 'cleared');
      assert.equal(resolved?.resolvedBy, 'system');
    });

    it('combines conditions with AND and OR', async () => {
      await device('and-1', 'andor');
      const both = await createRule(hub, {
        name: 'hot and low',
        selector: 'test=andor',
        severity: 'critical',
        condition: {
          and: [
            { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
            { type: 'battery', below: 20 },
          ],
        },
      });
      const either = await createRule(hub, {
        name: 'hot or low',
        selector: 'test=andor',
        severity: 'info',
        condition: {
          or: [
            { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
            { type: 'battery', below: 20 },
          ],
        },
      });
      sendTelemetry(hub, 'and-1', { temperature: 80, battery: 50 });
      assert.equal((await alertsOf(hub, both)).length, 0);
      assert.equal((await alertsOf(hub, either))[0]?.status, 'firing');
      sendTelemetry(hub, 'and-1', { battery: 10 });
      assert.equal((await alertsOf(hub, both))[0]?.status, 'firing');
      sendTelemetry(hub, 'and-1', { temperature: 50 }); // one side of the AND clears
      assert.equal((await alertsOf(hub, both))[0]?.status, 'resolved');
      assert.equal((await alertsOf(hub, either))[0]?.status, 'firing', 'the battery side of the OR still holds');
      sendTelemetry(hub, 'and-1', { battery: 60 });
      assert.equal((await alertsOf(hub, either))[0]?.status, 'resolved');
      assert.equal((await alertsOf(hub, either)).length, 1, 'one alert for the whole OR, not one per side');
    });

    it('fires when a device is offline longer than the rule allows, and resolves when it is back', async () => {
      const session = await device('off-1', 'offline');
      const rule = await createRule(hub, {
        name: 'offline 5m',
        selector: 'test=offline',
        severity: 'warning',
        condition: { type: 'offline', for: '5m' },
      });
      await disconnectDevice(hub, 'off-1', session);
      hub.clock.advance(4 * MIN);
      assert.deepEqual(await alertsOf(hub, rule), []);
      hub.clock.advance(1 * MIN);
      const [alert] = await alertsOf(hub, rule);
      assert.equal(alert?.status, 'firing');
      assert.match(alert?.summary ?? '', /offline for 5m/);
      await device('off-1', 'offline');
      assert.equal((await alertsOf(hub, rule))[0]?.status, 'resolved');
    });

    it('fires when a device sends no telemetry for the rule’s time, and resolves on the next message', async () => {
      await device('quiet-1', 'nodata');
      await device('quiet-2', 'nodata');
      const rule = await createRule(hub, {
        name: 'no temperature 10m',
        selector: 'test=nodata',
        severity: 'warning',
        condition: { type: 'no_data', metric: 'temperature', for: '10m' },
      });
      sendTelemetry(hub, 'quiet-1', { temperature: 20 });
      hub.clock.advance(5 * MIN);
      sendTelemetry(hub, 'quiet-1', { temperature: 21 });
      sendTelemetry(hub, 'quiet-2', { battery: 90 }); // another metric does not count
      hub.clock.advance(10 * MIN);
      const firing = await alertsOf(hub, rule);
      assert.deepEqual(firing.map((a) => [a.device, a.status]).sort(), [
        ['quiet-1', 'firing'],
        ['quiet-2', 'firing'],
      ]);
      sendTelemetry(hub, 'quiet-2', { temperature: 19 });
      const after = await alertsOf(hub, rule, 'device=quiet-2');
      assert.equal(after[0]?.status, 'resolved');
    });

    it('fires on a rate of change over its window, and clears when the rate settles', async () => {
      await device('drain-1', 'rate');
      const rule = await createRule(hub, {
        name: 'battery draining',
        selector: 'test=rate',
        severity: 'warning',
        condition: { type: 'rate', metric: 'battery', op: '<', value: -1, per: 'minute', window: '2m' },
      });
      sendTelemetry(hub, 'drain-1', { battery: 90 });
      hub.clock.advance(30 * S);
      sendTelemetry(hub, 'drain-1', { battery: 85 }); // 30 s span: under half the window, no verdict yet
      assert.deepEqual(await alertsOf(hub, rule), []);
      hub.clock.advance(30 * S);
      sendTelemetry(hub, 'drain-1', { battery: 80 }); // −10 in 60 s: −10 per minute
      const [alert] = await alertsOf(hub, rule);
      assert.equal(alert?.status, 'firing');
      assert.match(alert?.summary ?? '', /battery changing -10 per 1m < -1/);
      for (let i = 0; i < 5; i++) {
        hub.clock.advance(30 * S);
        sendTelemetry(hub, 'drain-1', { battery: 80 });
      }
      assert.equal((await alertsOf(hub, rule))[0]?.status, 'resolved');
    });

    it('ignores stale telemetry: a replayed backlog is not news', async () => {
      await device('stale-1', 'stale');
      const rule = await createRule(hub, {
        name: 'stale hot',
        selector: 'test=stale',
        severity: 'info',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
      });
      sendTelemetry(hub, 'stale-1', { temperature: 99 }, hub.clock.now() - 10 * MIN);
      assert.deepEqual(await alertsOf(hub, rule), []);
    });

    it('keeps open alerts through a rename, and resolves them when the condition changes', async () => {
      await device('edit-1', 'edit');
      const rule = await createRule(hub, {
        name: 'edit hot',
        selector: 'test=edit',
        severity: 'warning',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
      });
      sendTelemetry(hub, 'edit-1', { temperature: 80 });
      const patch = (payload: object) =>
        hub.inject({ method: 'PATCH', url: `/api/v1/alert-rules/${rule.id}`, payload });
      assert.equal((await patch({ name: 'edit renamed', description: 'hotter motors' })).statusCode, 200);
      assert.equal((await alertsOf(hub, rule))[0]?.status, 'firing', 'a rename changes nothing that decides');
      assert.equal(
        (await patch({ condition: { type: 'threshold', metric: 'temperature', op: '>', value: 90 } })).statusCode,
        200,
      );
      assert.equal((await alertsOf(hub, rule))[0]?.resolution, 'rule_changed');
      sendTelemetry(hub, 'edit-1', { temperature: 85 });
      assert.equal((await alertsOf(hub, rule)).length, 1);
      hub.clock.advance(1000); // a later start than the resolved one: newest first is then this one
      sendTelemetry(hub, 'edit-1', { temperature: 95 });
      const [again] = await alertsOf(hub, rule);
      assert.equal(again?.status, 'firing');
      assert.equal(again?.ruleName, 'edit renamed');
    });

    it('drops the state of deleted devices and rules, resolving their alerts', async () => {
      await device('gone-1', 'gone');
      await device('gone-2', 'gone');
      const rule = await createRule(hub, {
        name: 'gone hot',
        selector: 'test=gone',
        severity: 'info',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
      });
      const base = hub.alerts.evaluator.size;
      sendTelemetry(hub, 'gone-1', { temperature: 90 });
      sendTelemetry(hub, 'gone-2', { temperature: 90 });
      assert.equal(hub.alerts.evaluator.size, base + 2);
      assert.equal((await hub.inject({ method: 'DELETE', url: '/api/v1/devices/gone-1' })).statusCode, 204);
      assert.equal((await alertsOf(hub, rule, 'device=gone-1'))[0]?.resolution, 'device_removed');
      assert.equal(hub.alerts.evaluator.size, base + 1);
      // A label change that takes a device out of scope ends its alert too.
      const patched = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/gone-2',
        payload: { labels: { test: 'elsewhere' } },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal((await alertsOf(hub, rule, 'device=gone-2'))[0]?.resolution, 'out_of_scope');
      assert.equal(hub.alerts.evaluator.size, base);

      await device('gone-3', 'gone');
      sendTelemetry(hub, 'gone-3', { temperature: 90 });
      assert.equal((await hub.inject({ method: 'DELETE', url: `/api/v1/alert-rules/${rule.id}` })).statusCode, 204);
      assert.equal((await alertsOf(hub, rule, 'device=gone-3'))[0]?.resolution, 'rule_deleted');
      assert.equal(hub.alerts.evaluator.size, base);
      // Values that cross nothing leave no state behind.
      const calm = await createRule(hub, {
        name: 'calm',
        selector: 'test=gone',
        severity: 'info',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
      });
      for (let i = 0; i < 100; i++) sendTelemetry(hub, 'gone-3', { temperature: 20 + (i % 10) });
      assert.equal(hub.alerts.evaluator.size, base);
      assert.deepEqual(await alertsOf(hub, calm), []);
    });
  });
}
