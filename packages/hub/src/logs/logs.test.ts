import assert from 'node:assert/strict';
import { describe, it, test, type TestContext } from 'node:test';
import { envelope, ErrorCodes, LOG_LEVEL_VALUES } from '@flotilla/protocol';
import { TestSocket } from '../client-ws/test-client.js';
import { eventually, TestDevice } from '../gateway/testing.js';
import { AGENT_WS_PATH } from '../gateway/ws-agent.js';
import { connectDevice, json, openTestHub, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';
import type { Engine } from '../storage/types.js';
import { LogIngest } from './ingest.js';
import type { LogLineBody } from './view.js';
import type { Static } from '@sinclair/typebox';

type Line = Static<typeof LogLineBody>;
interface Page {
  items: Line[];
  nextCursor: string | null;
}

async function listening(t: TestContext, engine: Engine, options: Parameters<typeof openTestHub>[1] = {}) {
  const hub = await openTestHub(engine, { deviceAuth: false, mqttPort: false, ...options });
  t.after(() => hub.dispose());
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  const address = hub.app.server.address();
  assert.ok(address && typeof address === 'object');
  return { hub, base: `ws://127.0.0.1:${address.port}` };
}

/** Writes lines the way the gateway does, at the hub's clock. */
async function seed(hub: TestHub): Promise<void> {
  const now = hub.clock.now();
  await connectDevice(hub, 'r1', { type: 'lekiwi', labels: { site: 'lab' } });
  await connectDevice(hub, 'r2', { type: 'tonypi', labels: { site: 'field' } });
  const lines: Array<[string, number, string, string, Record<string, unknown>?]> = [
    ['r1', now - 50_000, 'info', 'patrol started'],
    ['r1', now - 40_000, 'warn', 'Battery low: 19 %, returning to dock', { soc: 19 }],
    ['r2', now - 30_000, 'error', 'servo 3 overheated', { servo: 3 }],
    ['r1', now - 20_000, 'debug', 'odometry reset'],
    ['r2', now - 10_000, 'info', 'calibration done'],
  ];
  for (const [device, ts, level, message, fields] of lines) {
    const outcome = await hub.logs.submit(device, { ts, level, message, ...(fields && { fields }) });
    assert.ok(outcome.ok, JSON.stringify(outcome));
  }
}

for (const engine of ENGINES) {
  describe(`log queries on ${engine}`, () => {
    it('filters one device by level, text and time, newest first, with cursors', async (t) => {
      const { hub } = await listening(t, engine);
      await seed(hub);
      const now = hub.clock.now();
      const get = async (url: string) => {
        const res = await hub.inject(url);
        assert.equal(res.statusCode, 200, res.body);
        return json<Page>(res);
      };
      const all = await get('/api/v1/devices/r1/logs');
      assert.deepEqual(
        all.items.map((l) => l.message),
        ['odometry reset', 'Battery low: 19 %, returning to dock', 'patrol started'],
      );
      assert.deepEqual(all.items[1], {
        id: all.items[1]?.id,
        device: 'r1',
        ts: now - 40_000,
        level: 'warn',
        message: 'Battery low: 19 %, returning to dock',
        fields: { soc: 19 },
        received: now,
      });
      assert.deepEqual(
        (await get('/api/v1/devices/r1/logs?level=warn')).items.map((l) => l.level),
        ['warn'],
      );
      assert.deepEqual((await get('/api/v1/devices/r1/logs?text=BATTERY')).items.length, 1);
      const since = new Date(now - 45_000).toISOString();
      assert.deepEqual(
        (await get(`/api/v1/devices/r1/logs?since=${since}&until=${now - 20_000}&order=asc`)).items.map(
          (l) => l.message,
        ),
        ['Battery low: 19 %, returning to dock'],
      );
      const first = await get('/api/v1/devices/r1/logs?limit=2');
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      const second = await get(`/api/v1/devices/r1/logs?limit=2&cursor=${first.nextCursor}`);
      assert.deepEqual(
        second.items.map((l) => l.message),
        ['patrol started'],
      );
      assert.equal(second.nextCursor, null);
    });

    it('filters the fleet by selector, type, device list and level; refuses bad queries with reasons', async (t) => {
      const { hub } = await listening(t, engine);
      await seed(hub);
      const messages = async (query: string) => {
        const res = await hub.inject(`/api/v1/logs?${query}`);
        assert.equal(res.statusCode, 200, res.body);
        return json<Page>(res).items.map((l) => `${l.device}:${l.message}`);
      };
      assert.equal((await messages('')).length, 5);
      assert.deepEqual(await messages('selector=site%3Dfield&order=asc'), [
        'r2:servo 3 overheated',
        'r2:calibration done',
      ]);
      assert.deepEqual(await messages('type=lekiwi&level=info&order=asc'), [
        'r1:patrol started',
        'r1:Battery low: 19 %, returning to dock',
      ]);
      assert.deepEqual(await messages('device=r2&device=r1&level=error'), ['r2:servo 3 overheated']);
      assert.deepEqual(await messages('device=r1&selector=site%3Dfield'), []);
      assert.deepEqual(await messages('selector=site%3Dnowhere'), []);

      const refused = async (url: string, status: number, code: string) => {
        const res = await hub.inject(url);
        assert.equal(res.statusCode, status, `${url}: ${res.body}`);
        assert.equal(json<ErrorBodyJson>(res).error.code, code, url);
      };
      await refused('/api/v1/logs?level=loud', 400, 'bad_request');
      await refused('/api/v1/logs?selector=site%3D%3D%3D', 400, 'bad_selector');
      await refused('/api/v1/logs?since=yesterday', 400, 'bad_request');
      await refused(`/api/v1/logs?since=${hub.clock.now()}&until=${hub.clock.now() - 1}`, 400, 'bad_request');
      await refused('/api/v1/logs?cursor=nonsense', 400, 'bad_cursor');
      await refused('/api/v1/devices/ghost/logs', 404, 'device_not_found');
    });
  });
}

test('log lines over /ws/agent are stored, tailed live on /ws/client with their ids, and bad ones refused with reasons', async (t) => {
  const { hub, base } = await listening(t, 'sqlite', { logs: { maxFieldsBytes: 64 } });
  const client = await TestSocket.connect(`${base}/ws/client?access_token=${hub.adminToken}`);
  t.after(() => client.close());
  client.send({ type: 'subscribe', id: 's1', subjects: ['flotilla.*.log'] });
  await client.next((f: { type?: string }) => f.type === 'subscribed');

  const { device } = await TestDevice.online(`${base}${AGENT_WS_PATH}`, 'ws-1');
  const now = hub.clock.now();
  const frame = (seq: number, payload: Record<string, unknown>, ts = now) =>
    JSON.stringify(envelope('log', 'ws-1', seq, ts, payload as never));
  device.sendRaw(frame(10, { level: 'warn', message: 'wheel slip', fields: { wheel: 'left' } }));
  device.sendRaw(frame(11, { level: 'loud', message: 'not a level' }));
  device.sendRaw(frame(12, { level: 'info', message: 'x'.repeat(16_385) }));
  device.sendRaw(frame(13, { level: 'info', message: 'big fields', fields: { blob: 'y'.repeat(100) } }));
  device.sendRaw(frame(14, { level: 'info', message: 'from the future' }, now + 3_600_000));
  device.sendRaw(frame(15, { level: 'error', message: 'motor stalled' }));

  const live = await client.next(
    (f: { type?: string; data?: Line }) => f.type === 'message' && f.data?.message === 'wheel slip',
  );
  const stalled = await client.next(
    (f: { type?: string; data?: Line }) => f.type === 'message' && f.data?.message === 'motor stalled',
  );
  const liveLine = (live as unknown as { subject: string; data: Line }).data;
  assert.equal((live as unknown as { subject: string }).subject, 'flotilla.ws-1.log');
  assert.deepEqual(liveLine, {
    id: liveLine.id,
    device: 'ws-1',
    ts: now,
    level: 'warn',
    message: 'wheel slip',
    fields: { wheel: 'left' },
    received: now,
  });

  const stored = json<Page>(await hub.inject('/api/v1/devices/ws-1/logs?order=asc'));
  assert.deepEqual(
    stored.items.map((l) => [l.id, l.message]),
    [
      [liveLine.id, 'wheel slip'],
      [(stalled as unknown as { data: Line }).data.id, 'motor stalled'],
    ],
  );

  // Schema violations are bad frames; the hub's own limits are log_refused with the reason.
  await eventually(() => device.received.filter((m) => m.type === 'error').length === 4, 'four refusals');
  const errors = device.received.filter((m) => m.type === 'error').map((m) => m.payload as Record<string, unknown>);
  assert.deepEqual(
    errors.map((e) => [e['code'], (e['ref'] as { seq: number }).seq]),
    [
      [ErrorCodes.BAD_FRAME, 11],
      [ErrorCodes.BAD_FRAME, 12],
      [ErrorCodes.LOG_REFUSED, 13],
      [ErrorCodes.LOG_REFUSED, 14],
    ],
  );
  assert.match(String(errors[2]?.['message']), /^fields_too_large: /);
  assert.match(String(errors[3]?.['message']), /^ts_in_future: /);
  const metrics = await hub.metrics.registry.metrics();
  assert.match(metrics, /^flotilla_logs_refused_total\{reason="fields_too_large"\} 1$/m);
  assert.match(metrics, /^flotilla_logs_written_total\{level="warn"\} 1$/m);
});

test('retention deletes lines past it in the maintenance job; old lines are refused at the door', async (t) => {
  const { hub } = await listening(t, 'sqlite', { logs: { retentionMs: 3_600_000 } });
  await connectDevice(hub, 'r1');
  const now = hub.clock.now();
  const old = await hub.logs.submit('r1', { ts: now - 3_600_001, level: 'info', message: 'too old' });
  assert.deepEqual(old.ok ? 'stored' : old.reason, 'ts_too_old');
  assert.ok((await hub.logs.submit('r1', { ts: now - 1000, level: 'info', message: 'kept a while' })).ok);
  hub.clock.advance(3_600_000);
  assert.ok((await hub.logs.submit('r1', { ts: hub.clock.now(), level: 'info', message: 'fresh' })).ok);
  // The advance fired the maintenance timer: that pass (at its own `now`) may still be writing.
  await hub.telemetryMaintenance.idle();
  const pass = await hub.telemetryMaintenance.run();
  assert.deepEqual(pass.extra, { logs: 1 });
  // Read from storage: the admin's access token has expired meanwhile.
  const left = await hub.storage.logs.read({ devices: ['r1'], order: 'asc', limit: 10 });
  assert.deepEqual(
    left.map((l) => l.message),
    ['fresh'],
  );
  assert.match(await hub.metrics.registry.metrics(), /^flotilla_logs_expired_total 1$/m);
});

test('the ingest refuses lines past its queue bound as overloaded, counted, and writes the rest', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const written: string[] = [];
  const ingest = new LogIngest({
    settings: { maxQueuedLines: 2 },
    store: {
      async write(lines) {
        await gate;
        written.push(...lines.map((l) => l.message));
        return lines.map((_, i) => i + 1);
      },
    },
  });
  const now = Date.now();
  const submit = (message: string) => ingest.submit('r1', { ts: now, level: 'info', message });
  const outcomes = [submit('a'), submit('b'), submit('c')];
  assert.equal(ingest.queuedLines, 2);
  const third = await outcomes[2];
  assert.deepEqual(third, { ok: false, reason: 'overloaded', message: 'the log queue is full; send it again later' });
  release();
  const [a, b] = await Promise.all(outcomes.slice(0, 2));
  assert.ok(a?.ok && b?.ok);
  assert.equal(a.line.level, LOG_LEVEL_VALUES.info);
  assert.deepEqual(written, ['a', 'b']);
  assert.equal(ingest.queuedLines, 0);
  await ingest.close();
  assert.deepEqual(await submit('d'), { ok: false, reason: 'shutting_down', message: 'the hub is shutting down' });
});
