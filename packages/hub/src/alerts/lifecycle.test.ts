import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock, type StoredEvent } from '@flotilla/protocol';
import { resolveHubConfig } from '../config.js';
import { assembleHub, type HubParts } from '../hub.js';
import {
  connectDevice,
  json,
  TEST_ADMIN_PASSWORD,
  TEST_START,
  type ErrorBodyJson,
  type TestHub,
} from '../http/testing.js';
import { createTestTarget, ENGINES, type TestTarget } from '../storage/testing.js';
import type { AlertView } from './views.js';
import { signature } from './webhooks.js';
import {
  alertsOf,
  createRule,
  getAlert,
  historyTypes,
  listAlerts,
  openAlertsTestHub,
  sendTelemetry,
  webhookReceiver,
} from './testing.js';

const MIN = 60_000;
const SYSTEM = { actor: 'system', correlationId: null, causationId: null };

for (const engine of ENGINES) {
  describe(`alert lifecycle on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openAlertsTestHub(engine);
    });
    after(() => hub.dispose());

    it('goes firing → acknowledged → resolved, each step an event with its actor, published on the bus', async () => {
      await connectDevice(hub, 'life-1', { labels: { test: 'life' } });
      const rule = await createRule(hub, {
        name: 'life hot',
        selector: 'test=life',
        severity: 'critical',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70, clear: 65 },
      });
      const published: StoredEvent[] = [];
      const unsubscribe = hub.bus.subscribe('flotilla.life-1.event.*', (_subject, data) =>
        published.push(data as StoredEvent),
      );
      sendTelemetry(hub, 'life-1', { temperature: 80 });
      const [firing] = await alertsOf(hub, rule);
      assert.ok(firing);

      const viewer = await hub.tokenFor('viewer');
      const operator = await hub.tokenFor('operator');
      const as = (token: string, action: string, id = firing.id) =>
        hub.app.inject({
          method: 'POST',
          url: `/api/v1/alerts/${id}/${action}`,
          headers: { authorization: `Bearer ${token}` },
        });
      assert.equal((await as(viewer, 'ack')).statusCode, 403, 'viewers read, they do not acknowledge');
      const acked = await as(operator, 'ack');
      assert.equal(acked.statusCode, 200, acked.body);
      const ackedView = json<AlertView>(acked);
      assert.equal(ackedView.status, 'acknowledged');
      assert.match(ackedView.acknowledgedBy ?? '', /operator-/);
      assert.equal(json<AlertView>(await as(operator, 'ack')).acknowledgedAt, ackedView.acknowledgedAt, 'idempotent');

      const resolved = json<AlertView>(await as(operator, 'resolve'));
      assert.equal(resolved.status, 'resolved');
      assert.equal(resolved.resolution, 'manual');
      for (const action of ['resolve', 'ack']) {
        const again = await as(operator, action);
        assert.equal(again.statusCode, 409);
        assert.equal(json<ErrorBodyJson>(again).error.code, 'alert_resolved');
      }
      const missing = await as(operator, 'ack', 'no-such-alert');
      assert.equal(missing.statusCode, 404);
      assert.equal(json<ErrorBodyJson>(missing).error.code, 'alert_not_found');

      const detail = await getAlert(hub, firing.id);
      assert.deepEqual(
        historyTypes(detail).map((h) => h.replace(/operator-\d+/, 'operator')),
        ['AlertFired by system', 'AlertAcknowledged by user:operator', 'AlertResolved by user:operator'],
      );
      assert.ok(detail.history.every((event) => event.metadata.correlationId === firing.id));
      assert.deepEqual(
        published.filter((e) => e.type.startsWith('Alert')).map((e) => e.type),
        ['AlertFired', 'AlertAcknowledged', 'AlertResolved'],
      );
      unsubscribe();

      // Resolved by hand while it still holds: no new alert until the condition clears and returns.
      sendTelemetry(hub, 'life-1', { temperature: 85 });
      assert.equal((await alertsOf(hub, rule)).length, 1);
      sendTelemetry(hub, 'life-1', { temperature: 60 });
      hub.clock.advance(1000);
      sendTelemetry(hub, 'life-1', { temperature: 90 });
      const again = await alertsOf(hub, rule);
      assert.equal(again.length, 2);
      assert.equal(again[0]?.status, 'firing');
    });

    it('lists with filters and pages, open alerts by default in the CLI’s sense', async () => {
      for (const id of ['page-1', 'page-2', 'page-3']) await connectDevice(hub, id, { labels: { test: 'page' } });
      const rule = await createRule(hub, {
        name: 'page low',
        selector: 'test=page',
        severity: 'info',
        condition: { type: 'battery', below: 20 },
      });
      for (const id of ['page-1', 'page-2', 'page-3']) {
        sendTelemetry(hub, id, { battery: 10 });
        hub.clock.advance(1000);
      }
      sendTelemetry(hub, 'page-3', { battery: 90 });
      const open = await listAlerts(hub, `rule=${rule.id}&status=firing,acknowledged`);
      assert.deepEqual(
        open.map((a) => a.device),
        ['page-2', 'page-1'],
        'newest first',
      );
      const first = await hub.inject(`/api/v1/alerts?rule=${rule.id}&limit=2`);
      const page = json<{ items: AlertView[]; nextCursor: string | null }>(first);
      assert.equal(page.items.length, 2);
      assert.ok(page.nextCursor);
      const second = json<{ items: AlertView[]; nextCursor: string | null }>(
        await hub.inject(`/api/v1/alerts?rule=${rule.id}&limit=2&cursor=${page.nextCursor}`),
      );
      assert.deepEqual(
        second.items.map((a) => a.device),
        ['page-1'],
      );
      assert.equal(second.nextCursor, null);
      assert.equal((await listAlerts(hub, `rule=${rule.id}&severity=critical`)).length, 0);
      assert.equal((await listAlerts(hub, `rule=${rule.id}&device=page-3&status=resolved`)).length, 1);
      // Open at some time in [from, to): page-3's alert ended before `from`.
      const from = hub.clock.now() + 1;
      hub.clock.advance(1000);
      const history = await hub.alerts.history({ from, to: hub.clock.now() });
      assert.deepEqual(
        history.filter((a) => a.rule === rule.id).map((a) => a.device),
        ['page-2', 'page-1'],
      );
      for (const bad of ['status=burning', 'severity=loud', 'from=yesterday', 'cursor=nonsense']) {
        const res = await hub.inject(`/api/v1/alerts?${bad}`);
        assert.equal(res.statusCode, 400, bad);
      }
    });
  });

  describe(`alerts across a restart on ${engine}`, () => {
    let target: TestTarget;
    const clock = new ManualClock(TEST_START);
    const open = () =>
      assembleHub(
        resolveHubConfig({
          dataDir: target.options.dataDir,
          databaseUrl: target.options.databaseUrl,
          logLevel: 'silent',
          adminPassword: TEST_ADMIN_PASSWORD,
          mqttPort: false,
        }),
        { logger: pino({ level: 'silent' }), clock },
      );

    beforeEach(async () => {
      target = await createTestTarget(engine);
    });
    afterEach(() => target.cleanup());

    it('resumes webhook deliveries a stopped hub left pending', async () => {
      const receiver = await webhookReceiver([500, 200]);
      let hub = await open();
      try {
        await connectDevice(hub, 'w-1', { labels: { test: 'resume' } });
        await hub.alerts.rules.create(
          {
            name: 'resume hot',
            selector: 'test=resume',
            severity: 'warning',
            condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
            webhooks: [{ url: receiver.url, secret: 'resume-secret' }],
          },
          SYSTEM,
        );
        hub.bus.publish('flotilla.w-1.telemetry', { ts: clock.now(), metrics: { temperature: 80 } });
        await hub.alerts.flush();
        await hub.alerts.dispatcher.idle();
        assert.equal(receiver.received.length, 1);
        const [alert] = await hub.alerts.list({ device: 'w-1', limit: 1 });
        assert.ok(alert);
        await hub.close();

        hub = await open();
        await hub.alerts.dispatcher.idle();
        const [delivery] = (await hub.alerts.get(alert.id)).deliveries;
        assert.equal(receiver.received.length, 2, `retried at start: ${JSON.stringify(delivery)}`);
        assert.equal(delivery?.status, 'delivered');
        assert.equal(delivery?.attempts, 2);
        assert.equal(
          receiver.received[1]?.headers['x-flotilla-signature'],
          signature('resume-secret', receiver.received[1]?.body ?? ''),
        );
      } finally {
        await hub.close();
        await receiver.close();
      }
    });

    const fired = async (hub: HubParts, device: string): Promise<number> =>
      (await hub.storage.readEvents({ aggregateId: device, types: ['AlertFired'], limit: 100 })).length;

    it('keeps open alerts: no second firing, and they still resolve when their condition clears', async () => {
      let hub = await open();
      await connectDevice(hub, 'r-1');
      await connectDevice(hub, 'r-2');
      await hub.alerts.rules.create(
        {
          name: 'restart hot',
          selector: '',
          severity: 'warning',
          condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70, clear: 65 },
        },
        SYSTEM,
      );
      await hub.alerts.rules.create(
        { name: 'restart quiet', severity: 'info', condition: { type: 'no_data', metric: 'battery', for: '10m' } },
        SYSTEM,
      );
      hub.bus.publish('flotilla.r-1.telemetry', { ts: clock.now(), metrics: { temperature: 80, battery: 50 } });
      clock.advance(10 * MIN);
      await hub.alerts.flush();
      const before = (await hub.alerts.list({ statuses: ['firing'], limit: 10 })).map(
        (a) => `${a.ruleName}/${a.device}`,
      );
      assert.deepEqual(before.sort(), ['restart hot/r-1', 'restart quiet/r-1', 'restart quiet/r-2']);
      await hub.close();

      clock.advance(MIN);
      hub = await open();
      try {
        assert.equal(hub.alerts.evaluator.size, 3, 'the pairs of the open alerts are back');
        clock.advance(MIN);
        hub.bus.publish('flotilla.r-1.telemetry', { ts: clock.now(), metrics: { temperature: 68 } }); // inside the band
        await hub.alerts.flush();
        const still = await hub.alerts.list({ statuses: ['firing'], limit: 10 });
        assert.equal(still.length, 3, 'nothing resolved by the restart, nothing fired twice');
        assert.equal(await fired(hub, 'r-1'), 2);
        assert.equal(await fired(hub, 'r-2'), 1);

        hub.bus.publish('flotilla.r-1.telemetry', { ts: clock.now(), metrics: { temperature: 60 } });
        hub.bus.publish('flotilla.r-2.telemetry', { ts: clock.now(), metrics: { battery: 70 } });
        await hub.alerts.flush();
        const left = await hub.alerts.list({ statuses: ['firing'], limit: 10 });
        assert.deepEqual(
          left.map((a) => `${a.ruleName}/${a.device}`),
          ['restart quiet/r-1'],
        );
        assert.equal(hub.alerts.evaluator.size, 1);
      } finally {
        await hub.close();
      }
    });
  });
}
