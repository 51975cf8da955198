import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import type { StoredEvent } from '@flotilla/protocol';
import {
  connectDevice,
  disconnectDevice,
  json,
  openTestHub,
  TEST_START,
  type ErrorBodyJson,
  type TestHub,
} from '../http/testing.js';
import type { CommandRow, CommandStatus } from '../storage/commands.js';
import { ENGINES } from '../storage/testing.js';
import type { ReportStatistics, ReportView } from './schema.js';
import { readPdf } from './testing.js';

/**
 * Reports end to end on a whole hub (both storage engines, ManualClock): devices connect and
 * disconnect through the registry, telemetry goes through the ingest and its rollups, commands
 * are recorded; a report over a range clipped inside that history must state exactly what
 * happened in it.
 */

// Nothing in these tests may reach a real LLM provider configured on the machine.
delete process.env['FLOTILLA_LLM_URL'];

const MIN = 60_000;
const H = 3_600_000;
/** The report's range: [T1, T1 + 4 h). The devices' history starts an hour before. */
const T1 = TEST_START + H;
const T2 = T1 + 4 * H;

type Report = ReportView & { statistics: ReportStatistics };

for (const engine of ENGINES) {
  describe(`reports on ${engine}`, () => {
    let hub: TestHub;
    /** An API token of admin: the test moves the clock past a login token's life. */
    let adminToken: string;
    const fetched: string[] = [];
    const realFetch = globalThis.fetch;

    before(async () => {
      // Counts every outgoing HTTP call of the process: a hub without an LLM provider makes none.
      globalThis.fetch = (input, init) => {
        fetched.push(String(input instanceof Request ? input.url : input));
        return realFetch(input, init);
      };
      hub = await openTestHub(engine);
      const token = await hub.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'reports-test' } });
      adminToken = json<{ token: string }>(token).token;
      const lab = { labels: { site: 'lab' } };
      const sessions = new Map<string, string>();
      for (const id of ['r1', 'r2', 'r3']) sessions.set(id, await connectDevice(hub, id, lab));
      await connectDevice(hub, 'other', { labels: { site: 'yard' } });
      hub.clock.advance(30 * MIN);
      await disconnectDevice(hub, 'r3', sessions.get('r3') as string); // offline the whole range
      hub.clock.advance(30 * MIN + 2 * H); // T1 + 2 h
      await disconnectDevice(hub, 'r2', sessions.get('r2') as string); // online half the range
      hub.clock.advance(2 * H + 5 * MIN); // past T2

      const put = async (device: string, seq: number, ts: number, metrics: Record<string, number>) => {
        const result = await hub.telemetry.submit(device, [{ seq, ts, metrics }]);
        assert.deepEqual(result.refused, []);
      };
      await put('r1', 1, T1 + 10 * MIN, { 'battery.soc': 90, 'system.temperature': 60 });
      await put('r1', 2, T1 + 70 * MIN, { 'battery.soc': 80 });
      await put('r1', 3, T1 + 130 * MIN, { 'battery.soc': 70, 'system.temperature': 75 });
      await put('r2', 1, T1 + 10 * MIN, { 'battery.soc': 40, 'system.temperature': 50 });
      await put('r2', 2, T1 + 70 * MIN, { 'battery.soc': 25 });
      await put('r2', 3, T1 + 110 * MIN, { 'battery.soc': 15 });
      await put('r2', 4, T2 + MIN, { 'battery.soc': 1 }); // after the range
      await put('other', 1, T1 + 10 * MIN, { 'battery.soc': 5 }); // another site

      const command = (id: string, device: string, issuedAt: number, status: CommandStatus): CommandRow => ({
        id,
        deviceId: device,
        capability: 'hal.v1.led',
        command: 'set',
        args: { on: true },
        priority: 'normal',
        status,
        result: undefined,
        error: null,
        timeoutMs: 1000,
        actor: 'user:admin',
        issuedAt,
        deliveredAt: issuedAt,
        completedAt: issuedAt + 100,
        deadline: issuedAt + 3000,
        job: false,
        progress: null,
        progressMessage: null,
      });
      for (const [i, status] of (['succeeded', 'succeeded', 'succeeded', 'failed'] as const).entries()) {
        await hub.storage.commands.insert(command(`c-r1-${i}`, 'r1', T1 + i * MIN, status));
      }
      await hub.storage.commands.insert(command('c-r2', 'r2', T1 + H, 'timed_out'));
      await hub.storage.commands.insert(command('c-early', 'r2', T1 - MIN, 'failed'));
      await hub.storage.commands.insert(command('c-other', 'other', T1 + H, 'failed'));

      // Alert history as the alerts module records it (docs/alerts.md).
      const alert = (id: string, device: string, severity: string, startedAt: number, resolvedAt: number | null) => ({
        id,
        ruleId: 'rule-battery',
        ruleName: 'battery-low',
        deviceId: device,
        severity,
        status: resolvedAt === null ? ('firing' as const) : ('resolved' as const),
        summary: `${device}: battery.soc below 20`,
        details: {},
        startedAt,
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedAt,
        resolvedBy: resolvedAt === null ? null : 'system',
        resolution: resolvedAt === null ? null : 'cleared',
      });
      await hub.storage.alerts.insertAlert(alert('a-r2', 'r2', 'critical', T1 + 110 * MIN, T1 + 150 * MIN));
      await hub.storage.alerts.insertAlert(alert('a-r1', 'r1', 'warning', T1 + 3 * H, null));
      await hub.storage.alerts.insertAlert(alert('a-early', 'r1', 'warning', T1 - 2 * H, T1 - H)); // before the range
      await hub.storage.alerts.insertAlert(alert('a-other', 'other', 'critical', T1 + H, null)); // another site
    });
    after(async () => {
      globalThis.fetch = realFetch;
      await hub?.dispose();
    });

    const inject = (options: InjectOptions | string) => {
      const opts = typeof options === 'string' ? { url: options } : options;
      return hub.app.inject({ ...opts, headers: { authorization: `Bearer ${adminToken}`, ...opts.headers } });
    };
    const create = (body: object, token?: string) =>
      inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: body,
        ...(token && { headers: { authorization: `Bearer ${token}` } }),
      });
    const generated = async (body: object): Promise<Report> => {
      const res = await create(body);
      assert.equal(res.statusCode, 202, res.body);
      const pending = json<ReportView>(res);
      assert.equal(pending.status, 'pending');
      assert.equal(res.headers['location'], `/api/v1/reports/${pending.id}`);
      await hub.reports.idle();
      const got = await inject(`/api/v1/reports/${pending.id}`);
      assert.equal(got.statusCode, 200, got.body);
      return json<Report>(got);
    };

    test('a fleet report states uptime, battery, temperature and commands over its range', async () => {
      const report = await generated({
        scope: 'fleet',
        selector: 'site=lab',
        from: new Date(T1).toISOString(),
        to: T2,
      });
      assert.equal(report.status, 'ready', report.error ?? '');
      assert.match(report.createdBy, /^token:/, 'the actor who asked for it');
      const s = report.statistics;
      assert.deepEqual([s.from, s.to, s.devices, s.selector], [T1, T2, 3, 'site=lab']);

      assert.deepEqual(
        s.uptime.devices.map((d) => [d.device, d.onlineMs, d.fraction]),
        [
          ['r3', 0, 0],
          ['r2', 2 * H, 0.5],
          ['r1', 4 * H, 1],
        ],
      );
      assert.equal(s.uptime.fraction, 0.5);
      assert.deepEqual(s.uptime.offlineWholeRange, ['r3']);
      assert.deepEqual(s.uptime.overThreshold, ['r3', 'r2']);

      assert.deepEqual(
        s.battery.devices.map((d) => [d.device, d.min, d.max, d.points]),
        [
          ['r2', 15, 40, 3],
          ['r1', 70, 90, 3],
        ],
      );
      assert.deepEqual([s.battery.min, s.battery.max, s.battery.points], [15, 90, 6]);
      assert.ok(Math.abs((s.battery.avg ?? 0) - 320 / 6) < 1e-9);
      assert.deepEqual(s.battery.flagged, ['r2']);
      assert.equal(s.battery.source, 'rollup_1m');
      assert.ok(s.battery.series.length >= 3);
      assert.deepEqual(s.temperature.flagged, ['r1']);
      assert.equal(s.temperature.max, 75);

      assert.deepEqual(s.activity.commands, {
        issued: 5,
        succeeded: 3,
        failed: 1,
        timedOut: 1,
        cancelled: 0,
        open: 0,
        successRate: 0.6,
      });
      assert.equal(s.activity.telemetryPoints, 9);
      assert.deepEqual(
        s.activity.byCommands.map((d) => [d.device, d.commands]),
        [
          ['r1', 4],
          ['r2', 1],
        ],
      );
      assert.deepEqual(
        s.activity.byTelemetry.map((d) => [d.device, d.telemetryPoints]),
        [
          ['r1', 5],
          ['r2', 4],
        ],
      );
      assert.deepEqual(
        [s.alerts.available, s.alerts.total, s.alerts.open, s.alerts.bySeverity],
        [true, 2, 1, { critical: 1, warning: 1 }],
      );
      assert.deepEqual(
        [s.alerts.longest?.id, s.alerts.longest?.rule, s.alerts.longest?.durationMs],
        ['a-r1', 'battery-low', H],
        'still open at the end of the range: counted until then',
      );
      assert.deepEqual(
        s.alerts.byDevice.map((d) => [d.device, d.count]),
        [
          ['r1', 1],
          ['r2', 1],
        ],
      );

      assert.equal(report.summary?.source, 'deterministic');
      assert.equal(report.summary?.note, null);
      assert.match(
        report.summary?.text ?? '',
        /2 of 3 devices were offline more than 10% of the time \(r3 100%, r2 50%\); 1 was offline the whole range \(r3\)\./,
      );
      assert.deepEqual(fetched, [], 'no LLM provider configured: nothing called');

      const html = await inject(report.links.html);
      assert.equal(html.statusCode, 200);
      assert.match(String(html.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.match(String(html.headers['content-security-policy']), /default-src 'none'/);
      assert.match(
        String(html.headers['content-disposition']),
        /^inline; filename="report-2024-01-01-fleet-[0-9a-f]{8}\.html"$/,
      );
      assert.match(html.body, /<h1>Fleet report<\/h1>/);
      assert.match(html.body, /2024-01-01 01:00 – 05:00 UTC · selector site=lab/);

      const pdf = await inject(report.links.pdf);
      assert.equal(pdf.statusCode, 200);
      assert.equal(pdf.headers['content-type'], 'application/pdf');
      const facts = readPdf(pdf.rawPayload);
      assert.ok(facts.pages >= 1);
      assert.ok(facts.text.includes('Fleet report'));
      assert.ok(facts.text.replace(/\n/g, ' ').includes('offline more than 10% of the time'));

      const events = json<{ items: StoredEvent[] }>(
        await inject('/api/v1/events?type=ReportRequested,ReportReady,ReportFailed&limit=1000'),
      );
      assert.deepEqual(
        events.items.filter((e) => e.aggregateId === `report:${report.id}`).map((e) => [e.type, e.metadata.actor]),
        [
          ['ReportRequested', report.createdBy],
          ['ReportReady', 'system'],
        ],
      );
    });

    test('a device report covers that device only', async () => {
      const report = await generated({ scope: 'device', device: 'r2', from: T1, to: T2 });
      const s = report.statistics;
      assert.equal(s.devices, 1);
      assert.deepEqual(
        s.uptime.devices.map((d) => [d.device, d.fraction, d.connects]),
        [['r2', 0.5, 0]],
      );
      assert.deepEqual(
        s.battery.devices.map((d) => d.device),
        ['r2'],
      );
      assert.equal(s.activity.commands.issued, 1);
      assert.deepEqual([s.alerts.total, s.alerts.longest?.id, s.alerts.longest?.durationMs], [1, 'a-r2', 40 * MIN]);
      assert.match(report.summary?.text ?? '', /^Report for device r2 over .*r2 was online 50% of the time/);
    });

    test('a range reaching into the future ends now; bad requests are refused with a reason', async () => {
      const future = await create({ scope: 'fleet', from: T1, to: hub.clock.now() + 24 * H });
      assert.equal(future.statusCode, 202);
      assert.equal(json<ReportView>(future).to, hub.clock.now());
      await hub.reports.idle();

      const refused = async (body: object, status: number, code: string, message?: RegExp) => {
        const res = await create(body);
        assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
        const error = json<ErrorBodyJson>(res).error;
        assert.equal(error.code, code);
        if (message) assert.match(error.message, message);
      };
      await refused({ scope: 'fleet', from: 'yesterday' }, 400, 'bad_request', /body\/from/);
      await refused({ scope: 'fleet', from: T2, to: T1 }, 400, 'bad_request', /before/);
      await refused({ scope: 'fleet', from: T1 - 401 * 24 * H, to: T1 }, 400, 'bad_request', /400 days/);
      await refused({ scope: 'fleet', selector: 'site in (', from: T1 }, 400, 'bad_selector');
      await refused({ scope: 'fleet', device: 'r1', from: T1 }, 400, 'bad_request', /scope device/);
      await refused({ scope: 'device', from: T1 }, 400, 'bad_request', /body\/device/);
      await refused({ scope: 'device', device: 'ghost', from: T1 }, 404, 'device_not_found');
      await refused({ scope: 'robot', from: T1 }, 400, 'bad_request');
      await refused({ scope: 'fleet', from: T1, colour: 'red' }, 400, 'bad_request');
      await refused({ scope: 'fleet', from: T1, thresholds: { offlineAbove: 2 } }, 400, 'bad_request');

      assert.equal((await inject('/api/v1/reports/nope')).statusCode, 404);
      assert.equal(json<ErrorBodyJson>(await inject('/api/v1/reports/nope/pdf')).error.code, 'report_not_found');
    });

    test('viewers read reports, operators generate them, only admins delete them', async () => {
      const viewer = await hub.tokenFor('viewer');
      const operator = await hub.tokenFor('operator');
      assert.equal((await create({ scope: 'fleet', from: T1, to: T2 }, viewer)).statusCode, 403);
      const made = await create({ scope: 'fleet', from: T1, to: T2, thresholds: { batteryBelow: 50 } }, operator);
      assert.equal(made.statusCode, 202, made.body);
      const { id } = json<ReportView>(made);
      await hub.reports.idle();

      const listed = await inject({ url: '/api/v1/reports?limit=100', headers: { authorization: `Bearer ${viewer}` } });
      assert.equal(listed.statusCode, 200);
      const items = json<{ items: (ReportView & { statistics?: unknown })[] }>(listed).items;
      const mine = items.find((r) => r.id === id);
      assert.equal(mine?.status, 'ready');
      assert.equal(mine?.thresholds.batteryBelow, 50);
      assert.equal(mine?.createdBy.startsWith('user:operator-'), true);
      assert.equal(mine && 'statistics' in mine, false, 'listings leave the statistics out');
      assert.deepEqual(
        items.map((r) => r.createdAt),
        [...items.map((r) => r.createdAt)].sort((a, b) => b - a),
        'newest first',
      );
      const asViewer = { authorization: `Bearer ${viewer}` };
      assert.equal((await inject({ url: `/api/v1/reports/${id}/html`, headers: asViewer })).statusCode, 200);

      const del = (token?: string) =>
        inject({
          method: 'DELETE',
          url: `/api/v1/reports/${id}`,
          ...(token && { headers: { authorization: `Bearer ${token}` } }),
        });
      assert.equal((await del(operator)).statusCode, 403);
      assert.equal((await del()).statusCode, 204);
      assert.equal((await del()).statusCode, 404);
      assert.equal((await inject(`/api/v1/reports/${id}/html`)).statusCode, 404);
    });

    test('a report a stopped hub left pending is generated at the next start', async () => {
      await hub.storage.reports.insert({
        id: 'left-pending',
        scope: 'fleet',
        from: T1,
        to: T2,
        request: {
          scope: 'fleet',
          device: null,
          selector: 'site=lab',
          metrics: { battery: 'battery.soc', temperature: 'system.temperature' },
          thresholds: { batteryBelow: 20, temperatureAbove: 70, offlineAbove: 0.1 },
        },
        status: 'pending',
        error: null,
        statistics: null,
        summary: null,
        createdBy: 'user:admin',
        createdAt: hub.clock.now(),
        completedAt: null,
      });
      await hub.reports.resume();
      await hub.reports.idle();
      const report = json<Report>(await inject('/api/v1/reports/left-pending'));
      assert.equal(report.status, 'ready');
      assert.equal(report.statistics.uptime.fraction, 0.5);
    });
  });
}
