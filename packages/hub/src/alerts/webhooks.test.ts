import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDevice, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';
import { createRule, getAlert, listAlerts, openAlertsTestHub, sendTelemetry, webhookReceiver } from './testing.js';
import { retryDelay, signature } from './webhooks.js';

const SECRET = 'webhook-secret';

/**
 * Webhooks against a real local HTTP server that fails on purpose; retries wait on the hub's
 * ManualClock, so each test moves time exactly as far as the next retry.
 */
for (const engine of ENGINES) {
  describe(`alert webhooks on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openAlertsTestHub(engine, {
        alerts: { webhooks: { maxAttempts: 4, maxQueued: 3, baseDelayMs: 1000 } },
      });
    });
    after(() => hub.dispose());

    /** Lets what was decided reach the receiver: transitions written, attempts finished. */
    const settle = async () => {
      await hub.alerts.flush();
      await hub.alerts.dispatcher.idle();
    };

    const fire = async (test: string, url: string, devices: string[]) => {
      for (const id of devices) await connectDevice(hub, id, { labels: { test } });
      const rule = await createRule(hub, {
        name: `hook ${test}`,
        selector: `test=${test}`,
        severity: 'critical',
        condition: { type: 'threshold', metric: 'temperature', op: '>', value: 70 },
        webhooks: [{ url, secret: SECRET }],
      });
      for (const id of devices) sendTelemetry(hub, id, { temperature: 90 });
      await settle();
      return listAlerts(hub, `rule=${rule.id}`);
    };

    it('retries a failing receiver with exponential backoff until it answers, signing every attempt', async () => {
      const receiver = await webhookReceiver([500, 503, 204]);
      try {
        const [alert] = await fire('retry', receiver.url, ['hook-1']);
        assert.ok(alert);
        assert.equal(receiver.received.length, 1);
        let [delivery] = (await getAlert(hub, alert.id)).deliveries;
        assert.equal(delivery?.status, 'pending');
        assert.equal(delivery?.attempts, 1);
        assert.equal(delivery?.lastError, 'HTTP 500');
        assert.equal(delivery?.nextAttemptAt, (delivery?.lastAttemptAt ?? 0) + 1000);

        hub.clock.advance(999);
        await settle();
        assert.equal(receiver.received.length, 1, 'not before the backoff');
        hub.clock.advance(1);
        await settle();
        assert.equal(receiver.received.length, 2);
        hub.clock.advance(retryDelay(2, { baseDelayMs: 1000, maxDelayMs: 300_000 }));
        await settle();
        assert.equal(receiver.received.length, 3);

        [delivery] = (await getAlert(hub, alert.id)).deliveries;
        assert.equal(delivery?.status, 'delivered');
        assert.equal(delivery?.attempts, 3);
        assert.equal(delivery?.lastStatusCode, 204);
        assert.equal(delivery?.lastError, null);

        for (const [i, hit] of receiver.received.entries()) {
          assert.equal(hit.headers['x-flotilla-signature'], signature(SECRET, hit.body));
          assert.equal(hit.headers['x-flotilla-event'], 'AlertFired');
          assert.equal(hit.headers['x-flotilla-delivery'], delivery?.id, 'one delivery id across its retries');
          assert.equal(hit.headers['x-flotilla-attempt'], String(i + 1));
          const payload = JSON.parse(hit.body) as { event: string; alert: { id: string; status: string } };
          assert.equal(payload.event, 'AlertFired');
          assert.equal(payload.alert.id, alert.id);
        }

        // Later transitions are delivered too.
        sendTelemetry(hub, 'hook-1', { temperature: 20 });
        await settle();
        assert.equal(receiver.received.length, 4);
        assert.equal(receiver.received[3]?.headers['x-flotilla-event'], 'AlertResolved');
      } finally {
        await receiver.close();
      }
    });

    it('gives up after maxAttempts and shows the failure in the API and the metrics', async () => {
      const receiver = await webhookReceiver([500]);
      try {
        const [alert] = await fire('fail', receiver.url, ['hook-2']);
        assert.ok(alert);
        for (let attempt = 1; attempt < 4; attempt++) {
          hub.clock.advance(retryDelay(attempt, { baseDelayMs: 1000, maxDelayMs: 300_000 }));
          await settle();
        }
        assert.equal(receiver.received.length, 4);
        hub.clock.advance(600_000);
        await settle();
        assert.equal(receiver.received.length, 4, 'no attempt past maxAttempts');
        const [delivery] = (await getAlert(hub, alert.id)).deliveries;
        assert.equal(delivery?.status, 'failed');
        assert.equal(delivery?.attempts, 4);
        assert.equal(delivery?.lastError, 'HTTP 500');
        assert.equal(delivery?.nextAttemptAt, null);
        assert.equal(hub.alerts.dispatcher.size, 0);
        const metrics = (await hub.inject('/metrics')).body;
        assert.match(metrics, /flotilla_alert_webhook_deliveries_total\{status="failed"\} 1/);
        assert.match(metrics, /flotilla_alert_webhook_attempts_total\{outcome="http_error"\} \d+/);
        assert.match(metrics, /flotilla_alerts_open\{severity="critical"\} \d+/);
      } finally {
        await receiver.close();
      }
    });

    it('reports an unreachable receiver, and refuses deliveries past the queue bound instead of growing', async () => {
      const receiver = await webhookReceiver([200]);
      await receiver.close(); // nothing listens there any more
      const alerts = await fire('full', receiver.url, ['full-1', 'full-2', 'full-3', 'full-4']);
      assert.equal(alerts.length, 4, 'the evaluator fired them all: webhooks never hold it up');
      const deliveries = await Promise.all(alerts.map(async (a) => (await getAlert(hub, a.id)).deliveries[0]));
      const dropped = deliveries.filter((d) => d?.lastError === 'webhook queue full');
      assert.equal(dropped.length, 1, 'three fit in the queue, the fourth is refused');
      assert.equal(dropped[0]?.status, 'failed');
      assert.equal(dropped[0]?.attempts, 0);
      const tried = deliveries.filter((d) => d?.attempts === 1);
      assert.equal(tried.length, 3);
      for (const d of tried) assert.match(d?.lastError ?? '', /ECONNREFUSED/);
      assert.equal(hub.alerts.dispatcher.size, 3);
      const metrics = (await hub.inject('/metrics')).body;
      assert.match(metrics, /flotilla_alert_webhook_deliveries_total\{status="dropped"\} 1/);
      assert.match(metrics, /flotilla_alert_webhook_queue 3/);
      for (let attempt = 1; attempt < 4; attempt++) {
        hub.clock.advance(retryDelay(attempt, { baseDelayMs: 1000, maxDelayMs: 300_000 }));
        await settle();
      }
      assert.equal(hub.alerts.dispatcher.size, 0);
    });
  });
}
