import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';
import { createRule, openAlertsTestHub } from './testing.js';
import type { RuleView } from './views.js';

const hot = { type: 'threshold', metric: 'temperature', op: '>', value: 70 };
const valid = { name: 'valid', severity: 'warning', condition: hot };

for (const engine of ENGINES) {
  describe(`alert rule routes on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openAlertsTestHub(engine);
    });
    after(() => hub.dispose());

    const post = (payload: unknown) =>
      hub.inject({ method: 'POST', url: '/api/v1/alert-rules', payload: payload as object });

    it('creates, reads, changes and deletes a rule, keeping webhook secrets to itself', async () => {
      const created = await createRule(hub, {
        name: 'crud',
        description: 'a rule to edit',
        selector: 'type=lekiwi',
        severity: 'critical',
        condition: { or: [hot, { type: 'offline', for: '5m' }] },
        webhooks: [{ url: 'https://hooks.example/flotilla', secret: 'shh-very-secret' }],
      });
      assert.equal(created.enabled, true);
      assert.equal(created.createdBy.startsWith('token:'), true, created.createdBy);
      assert.deepEqual(created.webhooks, [{ url: 'https://hooks.example/flotilla', signed: true }]);
      assert.doesNotMatch(JSON.stringify(created), /shh-very-secret/);
      const got = json<RuleView>(await hub.inject(`/api/v1/alert-rules/${created.id}`));
      assert.deepEqual(got, created);

      hub.clock.advance(1000);
      const patched = await hub.inject({
        method: 'PATCH',
        url: `/api/v1/alert-rules/${created.id}`,
        payload: { enabled: false, description: null, severity: 'info' },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const view = json<RuleView>(patched);
      assert.equal(view.enabled, false);
      assert.equal(view.severity, 'info');
      assert.equal(view.description, undefined);
      assert.equal(view.webhooks[0]?.signed, true, 'webhooks absent from the patch stay, secret included');
      assert.ok(view.updatedAt > view.createdAt);
      assert.ok(
        json<{ items: RuleView[] }>(await hub.inject('/api/v1/alert-rules')).items.some((r) => r.id === created.id),
      );

      const events = await hub.storage.readEvents({ aggregateId: created.id, limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['AlertRuleCreated', 'AlertRuleUpdated'],
      );
      assert.doesNotMatch(JSON.stringify(events), /shh-very-secret/, 'secrets stay out of the event log');

      assert.equal((await hub.inject({ method: 'DELETE', url: `/api/v1/alert-rules/${created.id}` })).statusCode, 204);
      const gone = await hub.inject(`/api/v1/alert-rules/${created.id}`);
      assert.equal(gone.statusCode, 404);
      assert.equal(json<ErrorBodyJson>(gone).error.code, 'alert_rule_not_found');
    });

    it('refuses bad rules with invalid_alert_rule and a message naming the problem', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ ...valid, severity: 'loud' }, /severity/],
        [{ ...valid, name: '' }, /name/],
        [{ severity: 'info', condition: hot }, /name/],
        [{ ...valid, extra: 1 }, /extra/],
        [{ ...valid, selector: 'type in (a' }, /selector/],
        [{ ...valid, condition: { type: 'threshold', metric: 'temp', op: '=>', value: 1 } }, /condition\.op/],
        [{ ...valid, condition: { type: 'threshold', metric: 'bad metric', op: '>', value: 1 } }, /condition\.metric/],
        [
          { ...valid, condition: { type: 'threshold', metric: 't', op: '>', value: 70, clear: 75 } },
          /condition\.clear.*at or below/,
        ],
        [{ ...valid, condition: { type: 'battery', below: 20, clear: 10 } }, /condition\.clear.*at or above/],
        [{ ...valid, condition: { type: 'threshold', metric: 't', op: '>', value: 'hot' } }, /condition\.value/],
        [{ ...valid, condition: { type: 'offline' } }, /condition\.for.*required/],
        [{ ...valid, condition: { type: 'offline', for: 'soon' } }, /condition\.for.*duration/],
        [{ ...valid, condition: { type: 'no_data', for: '10d' } }, /condition\.for/],
        [{ ...valid, condition: { type: 'rate', metric: 'b', op: '<', value: -1, per: 'week', window: '5m' } }, /per/],
        [{ ...valid, condition: { type: 'rate', metric: 'b', op: '<', value: -1 } }, /window.*required/],
        [{ ...valid, condition: { type: 'wobble' } }, /condition\.type/],
        [{ ...valid, condition: { and: [] } }, /condition\.and/],
        [{ ...valid, condition: { or: [hot, { type: 'offline' }] } }, /condition\.or\[1\]\.for/],
        [{ ...valid, condition: { and: [{ and: [{ and: [{ and: [hot] }] }] }] } }, /nest/],
        [{ ...valid, condition: { or: Array.from({ length: 17 }, () => hot) } }, /16 conditions/],
        [{ ...valid, webhooks: [{ url: 'ftp://example.com' }] }, /webhooks\[0\]\.url/],
        [{ ...valid, webhooks: [{ url: 'https://example.com', secret: 'short' }] }, /secret/],
      ];
      for (const [body, message] of cases) {
        const res = await post(body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`);
        const error = json<ErrorBodyJson>(res).error;
        assert.equal(error.code, 'invalid_alert_rule', res.body);
        assert.match(error.message, message, JSON.stringify(body));
      }
      const patch = await hub.inject({
        method: 'PATCH',
        url: `/api/v1/alert-rules/${(await createRule(hub, { ...valid, name: 'patch me' })).id}`,
        payload: { condition: { type: 'offline' } },
      });
      assert.equal(patch.statusCode, 400);
      assert.match(json<ErrorBodyJson>(patch).error.message, /condition\.for/);
    });

    it('refuses a second rule with the same name, and unknown ids', async () => {
      await createRule(hub, { ...valid, name: 'unique' });
      const again = await post({ ...valid, name: 'unique' });
      assert.equal(again.statusCode, 409);
      assert.equal(json<ErrorBodyJson>(again).error.code, 'alert_rule_exists');
      for (const [method, url] of [
        ['PATCH', '/api/v1/alert-rules/nope'],
        ['DELETE', '/api/v1/alert-rules/nope'],
        ['GET', '/api/v1/alerts/nope'],
      ] as const) {
        const res = await hub.inject({ method, url, ...(method === 'PATCH' && { payload: { enabled: false } }) });
        assert.equal(res.statusCode, 404, `${method} ${url}`);
      }
    });

    it('lets engineers manage rules and operators only read them', async () => {
      const engineer = await hub.tokenFor('engineer');
      const operator = await hub.tokenFor('operator');
      const as = (token: string) =>
        hub.app.inject({
          method: 'POST',
          url: '/api/v1/alert-rules',
          headers: { authorization: `Bearer ${token}` },
          payload: { ...valid, name: `by ${token.slice(-6)}` },
        });
      assert.equal((await as(engineer)).statusCode, 201);
      assert.equal((await as(operator)).statusCode, 403);
    });
  });
}
