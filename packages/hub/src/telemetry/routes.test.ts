import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDevice, json, openTestHub, TEST_START, type ErrorBodyJson, type TestHub } from '../http/testing.js';
import { ENGINES } from '../storage/testing.js';

const MIN = 60_000;
const HOUR = 3_600_000;
/** The data sits in the hour from T0; the hub's clock (TEST_START) is an hour after that hour. */
const T0 = TEST_START - 2 * HOUR;

interface Series {
  source: string;
  bucketMs: number | null;
  agg: string | null;
  from: number;
  to: number;
  truncated?: boolean;
  devices?: number;
  points: { ts: number; value: number; devices?: number }[];
}

for (const engine of ENGINES) {
  describe(`telemetry API on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openTestHub(engine);
      await connectDevice(hub, 'kiwi-1', { type: 'lekiwi', labels: { site: 'lab' } });
      await connectDevice(hub, 'kiwi-2', { type: 'lekiwi', labels: { site: 'lab' } });
      await connectDevice(hub, 'kiwi-3', { type: 'lekiwi', labels: { site: 'field' } });
      await connectDevice(hub, 'pi-1', { type: 'tonypi', labels: { site: 'lab' } });
      const battery = (seq: number, ts: number, value: number, temperature?: number) => ({
        seq,
        ts,
        metrics: temperature === undefined ? { battery: value } : { battery: value, temperature },
      });
      const results = await Promise.all([
        hub.telemetry.submit('kiwi-1', [
          { ...battery(1, T0, 90, 40), samples: { pose: { x: 1, y: 2 } } },
          battery(2, T0 + 30_000, 80),
          battery(3, T0 + 6 * MIN, 70, 41),
        ]),
        hub.telemetry.submit('kiwi-2', [battery(1, T0 + 10_000, 50), battery(2, T0 + 7 * MIN, 40)]),
        hub.telemetry.submit('kiwi-3', [battery(1, T0, 10)]),
        hub.telemetry.submit('pi-1', [battery(1, T0, 99)]),
      ]);
      assert.ok(results.every((r) => r.refused.length === 0));
      await hub.telemetryMaintenance.run();
    });
    after(async () => {
      await hub.dispose();
    });

    const get = async (url: string) => {
      const response = await hub.inject(url);
      assert.equal(response.statusCode, 200, response.body);
      return json<Series>(response);
    };

    it('returns raw points without a bucket, oldest first, with a limit', async () => {
      const body = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&from=${T0}&to=${T0 + HOUR}`);
      assert.equal(body.source, 'raw');
      assert.deepEqual(body.points, [
        { ts: T0, value: 90 },
        { ts: T0 + 30_000, value: 80 },
        { ts: T0 + 6 * MIN, value: 70 },
      ]);
      assert.equal(body.truncated, false);
      const page = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&from=${T0}&limit=2`);
      assert.deepEqual(
        page.points.map((p) => p.value),
        [90, 80],
      );
      assert.equal(page.truncated, true);
      // Defaults: the hour before now (T0 + 1 h … T0 + 2 h) holds nothing.
      assert.deepEqual((await get('/api/v1/devices/kiwi-1/telemetry?metric=battery')).points, []);
    });

    it('aggregates per bucket from the rollup the bucket calls for', async () => {
      const range = `from=${new Date(T0).toISOString()}&to=${T0 + HOUR}`;
      const fiveMin = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&${range}&bucket=5m`);
      assert.equal(fiveMin.source, 'rollup_1m');
      assert.equal(fiveMin.agg, 'avg');
      assert.deepEqual(fiveMin.points, [
        { ts: T0, value: 85, devices: 1 },
        { ts: T0 + 5 * MIN, value: 70, devices: 1 },
      ]);
      const hourly = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&${range}&bucket=1h&agg=min`);
      assert.equal(hourly.source, 'rollup_1h');
      assert.deepEqual(hourly.points, [{ ts: T0, value: 70, devices: 1 }]);
      const last = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&${range}&bucket=1h&agg=last`);
      assert.deepEqual(last.points, [{ ts: T0, value: 70, devices: 1 }]);
      const count = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&${range}&bucket=1h&agg=count`);
      assert.deepEqual(count.points, [{ ts: T0, value: 3, devices: 1 }]);
      const raw = await get(`/api/v1/devices/kiwi-1/telemetry?metric=battery&${range}&bucket=20s&agg=max`);
      assert.equal(raw.source, 'raw');
      assert.deepEqual(raw.points, [
        { ts: T0, value: 90, devices: 1 },
        { ts: T0 + 20_000, value: 80, devices: 1 },
        { ts: T0 + 6 * MIN, value: 70, devices: 1 },
      ]);
      // An unaligned range is widened to whole buckets.
      const widened = await get(
        `/api/v1/devices/kiwi-1/telemetry?metric=battery&from=${T0 + 90_000}&to=${T0 + 4 * MIN}&bucket=5m`,
      );
      assert.deepEqual([widened.from, widened.to], [T0, T0 + 5 * MIN]);
    });

    it('answers the newest value of every metric', async () => {
      const response = await hub.inject('/api/v1/devices/kiwi-1/telemetry/latest');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(json(response), {
        device: 'kiwi-1',
        metrics: { battery: { ts: T0 + 6 * MIN, value: 70 }, temperature: { ts: T0 + 6 * MIN, value: 41 } },
      });
    });

    it('returns structured samples by name', async () => {
      const response = await hub.inject(`/api/v1/devices/kiwi-1/telemetry/samples?name=pose&from=${T0}&limit=5`);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(json(response), {
        device: 'kiwi-1',
        name: 'pose',
        from: T0,
        to: TEST_START,
        samples: [{ ts: T0, data: { x: 1, y: 2 } }],
        truncated: false,
      });
    });

    it('aggregates a fleet selected by labels and type, every point weighing the same', async () => {
      const range = `from=${T0}&to=${T0 + 10 * MIN}`;
      const body = await get(`/api/v1/telemetry?selector=site%3Dlab&type=lekiwi&metric=battery&${range}&bucket=5m`);
      assert.equal(body.devices, 2);
      // kiwi-1: 90, 80 (first 5 min), 70; kiwi-2: 50 (first 5 min), 40.
      assert.deepEqual(body.points, [
        { ts: T0, value: (90 + 80 + 50) / 3, devices: 2 },
        { ts: T0 + 5 * MIN, value: (70 + 40) / 2, devices: 2 },
      ]);
      const all = await get(`/api/v1/telemetry?metric=battery&${range}&bucket=10m&agg=min`);
      assert.equal(all.devices, 4);
      assert.deepEqual(all.points, [{ ts: T0, value: 10, devices: 4 }]);
      const none = await get(`/api/v1/telemetry?selector=site%3Dmoon&metric=battery&${range}`);
      assert.deepEqual([none.devices, none.points], [0, []]);
    });

    it('refuses bad queries with a code, and readers without devices:read', async () => {
      const expect = async (url: string, status: number, code: string) => {
        const response = await hub.inject(url);
        assert.equal(response.statusCode, status, `${url}: ${response.body}`);
        assert.equal(json<ErrorBodyJson>(response).error.code, code);
      };
      await expect('/api/v1/devices/ghost/telemetry?metric=battery', 404, 'device_not_found');
      await expect('/api/v1/devices/ghost/telemetry/latest', 404, 'device_not_found');
      await expect('/api/v1/devices/ghost/telemetry/samples?name=pose', 404, 'device_not_found');
      await expect('/api/v1/devices/kiwi-1/telemetry/samples', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry?metric=bad%20name', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry?metric=battery&bucket=5x', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry?metric=battery&bucket=500ms', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry?metric=battery&agg=avg', 400, 'bad_request');
      await expect('/api/v1/devices/kiwi-1/telemetry?metric=battery&from=yesterday', 400, 'bad_request');
      await expect(`/api/v1/devices/kiwi-1/telemetry?metric=battery&from=${T0}&to=${T0}`, 400, 'bad_request');
      await expect(
        `/api/v1/devices/kiwi-1/telemetry?metric=battery&from=0&to=${T0}&bucket=1s`,
        400,
        'too_many_buckets',
      );
      await expect('/api/v1/telemetry?metric=battery&selector=a%3D%3D%3Db', 400, 'bad_selector');
      const viewer = await hub.tokenFor('viewer');
      const allowed = await hub.inject({
        url: '/api/v1/devices/kiwi-1/telemetry/latest',
        headers: { authorization: `Bearer ${viewer}` },
      });
      assert.equal(allowed.statusCode, 200);
      const anonymous = await hub.app.inject('/api/v1/telemetry?metric=battery');
      assert.equal(anonymous.statusCode, 401);
    });

    it('exports the ingest metrics', async () => {
      const text = (await hub.inject('/metrics')).body;
      assert.match(text, /^flotilla_telemetry_points_written_total 9$/m);
      assert.match(text, /^flotilla_telemetry_queue_points 0$/m);
      assert.match(text, /^flotilla_telemetry_pressure 0$/m);
      assert.match(text, /^flotilla_telemetry_write_seconds_count \d+$/m);
      assert.match(text, /^flotilla_telemetry_batch_points_count \d+$/m);
    });
  });
}
