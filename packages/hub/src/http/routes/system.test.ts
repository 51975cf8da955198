import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../../storage/testing.js';
import { HUB_VERSION } from '../../config.js';
import { connectDevice, disconnectDevice, json, openTestHub, type ErrorBodyJson, type TestHub } from '../testing.js';

/** Health, readiness, metrics, OpenAPI and the landing page, on both storage engines. */
for (const engine of ENGINES) {
  describe(`system routes on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openTestHub(engine);
      await connectDevice(hub, 'alpha', { name: 'Alpha <script>', labels: { site: 'lab' } });
      const s = await connectDevice(hub, 'beta', { name: 'Beta' });
      await disconnectDevice(hub, 'beta', s);
    });
    after(() => hub?.dispose());

    test('health reports version and uptime from the hub clock', async () => {
      hub.clock.advance(5000);
      const res = await hub.inject({ url: '/api/v1/health' });
      assert.equal(res.statusCode, 200);
      const body = json<{ status: string; version: string; uptime: number }>(res);
      assert.deepEqual(body, { status: 'ok', version: HUB_VERSION, uptime: 5 });
    });

    test('metrics expose the HTTP latency histogram and the hub series', async () => {
      await hub.inject({ url: '/api/v1/devices?limit=1' });
      await hub.inject({ url: '/api/v1/devices/nope' });
      await hub.inject({ url: '/no/such/route' });
      const res = await hub.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const text = res.body;
      for (const line of [
        /^flotilla_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/devices",status="200"\} \d+$/m,
        /^flotilla_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/devices\/:id",status="404"\} 1$/m,
        /^flotilla_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1$/m,
        /^flotilla_devices\{state="online"\} 1$/m,
        /^flotilla_devices\{state="offline"\} 1$/m,
        /^flotilla_event_log_size \d+$/m,
        /^# TYPE flotilla_messages_total counter$/m,
        /^# TYPE flotilla_ws_connections gauge$/m,
        /^flotilla_client_connections 0$/m,
        /^flotilla_client_dropped_total 0$/m,
        /^process_resident_memory_bytes \d+/m,
      ]) {
        assert.match(text, line);
      }
    });

    test('metrics expose the event-loop delay since the previous scrape', async () => {
      const quantiles = new Map<string, number>();
      // A window without a sample exports no value (event-loop-delay.ts); the monitor's timer
      // samples once the loop has turned over a millisecond, so turn it rather than wait.
      for (let turn = 0; quantiles.size === 0 && turn < 10_000; turn++) {
        const res = await hub.inject({ url: '/metrics' });
        assert.match(res.body, /^# TYPE flotilla_event_loop_delay_seconds gauge$/m);
        for (const [, q, value] of res.body.matchAll(
          /^flotilla_event_loop_delay_seconds\{quantile="([^"]+)"\} (\S+)$/gm,
        )) {
          quantiles.set(q!, Number(value));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual([...quantiles.keys()], ['0.5', '0.99', '1']);
      const [p50, p99, max] = [...quantiles.values()] as [number, number, number];
      // Seconds, not the monitor's nanoseconds; ordered like quantiles of one window.
      assert.ok(p50 >= 0 && p50 <= p99 && p99 <= max && max < 60, `${p50} ${p99} ${max}`);
    });

    test('OpenAPI JSON documents every REST route with its schemas', async () => {
      const res = await hub.inject({ url: '/api/docs/json' });
      assert.equal(res.statusCode, 200);
      const doc = json<{
        openapi: string;
        info: { version: string };
        paths: Record<
          string,
          Record<string, { parameters?: Array<{ name: string; in: string }>; responses: Record<string, unknown> }>
        >;
        components: { schemas: Record<string, unknown> };
      }>(res);
      assert.equal(doc.info.version, HUB_VERSION);
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      assert.deepEqual(operations.sort(), [
        'DELETE /api/v1/alert-rules/{id}',
        'DELETE /api/v1/devices/{id}',
        'DELETE /api/v1/devices/{id}/credential',
        'DELETE /api/v1/enrollment-tokens/{id}',
        'DELETE /api/v1/reports/{id}',
        'DELETE /api/v1/tokens/{id}',
        'DELETE /api/v1/users/{id}',
        'GET /api/v1/alert-rules',
        'GET /api/v1/alert-rules/{id}',
        'GET /api/v1/alerts',
        'GET /api/v1/alerts/{id}',
        'GET /api/v1/auth/me',
        'GET /api/v1/commands/{id}',
        'GET /api/v1/devices',
        'GET /api/v1/devices/{id}',
        'GET /api/v1/devices/{id}/commands',
        'GET /api/v1/devices/{id}/logs',
        'GET /api/v1/devices/{id}/telemetry',
        'GET /api/v1/devices/{id}/telemetry/latest',
        'GET /api/v1/devices/{id}/telemetry/samples',
        'GET /api/v1/discovered',
        'GET /api/v1/enrollment-tokens',
        'GET /api/v1/events',
        'GET /api/v1/fleet/health',
        'GET /api/v1/health',
        'GET /api/v1/jobs',
        'GET /api/v1/logs',
        'GET /api/v1/ready',
        'GET /api/v1/reports',
        'GET /api/v1/reports/{id}',
        'GET /api/v1/reports/{id}/html',
        'GET /api/v1/reports/{id}/pdf',
        'GET /api/v1/schemas',
        'GET /api/v1/schemas/{name}',
        'GET /api/v1/telemetry',
        'GET /api/v1/tls/ca',
        'GET /api/v1/tokens',
        'GET /api/v1/users',
        'GET /api/v1/users/{id}',
        'GET /metrics',
        'PATCH /api/v1/alert-rules/{id}',
        'PATCH /api/v1/devices/{id}',
        'PATCH /api/v1/users/{id}',
        'POST /api/v1/alert-rules',
        'POST /api/v1/alerts/{id}/ack',
        'POST /api/v1/alerts/{id}/resolve',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/logout',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/commands',
        'POST /api/v1/commands/{id}/cancel',
        'POST /api/v1/devices/{id}/commands',
        'POST /api/v1/enrollment-tokens',
        'POST /api/v1/reports',
        'POST /api/v1/tokens',
        'POST /api/v1/users',
      ]);
      assert.ok(doc.components.schemas['Device'], 'Device is a named component');
      assert.ok(doc.components.schemas['Event'], 'Event is a named component');
      assert.ok(doc.components.schemas['Error'], 'the error body is a named component');
      const listParams = doc.paths['/api/v1/devices']?.['get']?.parameters?.map((p) => p.name).sort();
      assert.deepEqual(listParams, ['cursor', 'label', 'limit', 'online', 'q', 'teleoperated', 'type']);
      const eventParams = doc.paths['/api/v1/events']?.['get']?.parameters?.map((p) => p.name).sort();
      assert.deepEqual(eventParams, ['actor', 'cursor', 'device', 'limit', 'order', 'since', 'type', 'until']);
      assert.ok(doc.paths['/api/v1/devices/{id}']?.['get']?.responses['404'], 'documents the 404');
      const ui = await hub.inject({ url: '/api/docs' });
      assert.ok([200, 302].includes(ui.statusCode), String(ui.statusCode));
    });

    test('unknown routes get the error shape; request ids are kept when sane', async () => {
      const res = await hub.inject({
        method: 'POST',
        url: '/api/v1/nothing',
        headers: { 'x-request-id': 'abc-123' },
      });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(json(res), { error: { code: 'not_found', message: 'no route for POST /api/v1/nothing' } });
      assert.equal(res.headers['x-request-id'], 'abc-123');
      const odd = await hub.inject({ url: '/api/v1/health', headers: { 'x-request-id': 'has spaces\tand tabs' } });
      assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'replaced by a generated id');
      const long = await hub.inject({ url: '/api/v1/health', headers: { 'x-request-id': 'x'.repeat(200) } });
      assert.notEqual(long.headers['x-request-id'], 'x'.repeat(200));
    });

    test('the landing page shows the fleet and links to the API', async () => {
      const res = await hub.inject({ url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      const html = res.body;
      assert.match(html, /<b>2<\/b>devices/);
      assert.match(html, /<b class="on">1<\/b>online/);
      for (const href of [
        '/api/docs',
        '/api/v1/devices',
        '/metrics',
        '/api/v1/events?order=desc&amp;limit=50',
        '/api/v1/devices/alpha',
      ]) {
        assert.ok(html.includes(`href="${href}"`), href);
      }
      assert.ok(html.includes('Alpha &lt;script&gt;'), 'device names are escaped');
      assert.ok(!html.includes('Alpha <script>'));
      assert.match(html, /<code>site=lab<\/code>/);
    });

    // Last: it closes the storage under the hub.
    test('ready is 200 while storage answers and 503 storage_unavailable when it does not', async () => {
      const ok = await hub.inject({ url: '/api/v1/ready' });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(json(ok), { status: 'ready' });
      await hub.storage.close();
      const down = await hub.inject({ url: '/api/v1/ready' });
      assert.equal(down.statusCode, 503);
      assert.equal(json<ErrorBodyJson>(down).error.code, 'storage_unavailable');
      // Routes that need storage say the same, without internals.
      const events = await hub.inject({ url: '/api/v1/events' });
      assert.equal(events.statusCode, 503);
      assert.deepEqual(json(events), { error: { code: 'storage_unavailable', message: 'storage is unreachable' } });
    });
  });
}
