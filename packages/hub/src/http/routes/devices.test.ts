import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../../storage/testing.js';
import {
  connectDevice,
  disconnectDevice,
  json,
  openTestHub,
  type DeviceListBody,
  type ErrorBodyJson,
  type TestHub,
} from '../testing.js';

/**
 * `/api/v1/devices` listing against the real registry on both storage engines, over a fleet of
 * 250 devices with varied types, labels and presence.
 */
const FLEET = 250;
const TYPES = ['lekiwi', 'xle', 'tonypi', 'mcu'];
const id = (i: number): string => `dev-${String(i).padStart(3, '0')}`;

interface Spec {
  id: string;
  type: string;
  labels: Record<string, string>;
  online: boolean;
}

function spec(i: number): Spec {
  const labels: Record<string, string> = { site: i % 2 ? 'field' : 'lab', zone: ['a', 'b', 'c'][i % 3] as string };
  if (i % 5 === 0) labels['gpu'] = 'true';
  return { id: id(i), type: TYPES[i % 4] as string, labels, online: i % 3 !== 0 };
}

async function seed(hub: TestHub): Promise<Spec[]> {
  const specs = Array.from({ length: FLEET }, (_, i) => spec(i));
  // Registered out of id order, so the listing's order is the registry's doing.
  const shuffled = [...specs].sort((a, b) =>
    a.id.split('').reverse().join('') < b.id.split('').reverse().join('') ? -1 : 1,
  );
  await Promise.all(
    shuffled.map(async (s) => {
      const i = Number(s.id.slice(4));
      const session = await connectDevice(hub, s.id, {
        name: `Robot ${i}`,
        type: s.type,
        labels: s.labels,
        network: { hostname: `host-${i}.Fleet.example` },
        hardware: { serial: `SN-${i * 7}`, model: `model-${s.type}` },
      });
      if (!s.online) await disconnectDevice(hub, s.id, session);
    }),
  );
  return specs;
}

for (const engine of ENGINES) {
  describe(`GET /api/v1/devices on ${engine}`, () => {
    let hub: TestHub;
    let fleet: Spec[];

    before(async () => {
      hub = await openTestHub(engine);
      fleet = await seed(hub);
    });
    after(() => hub?.dispose());

    async function list(query: string): Promise<DeviceListBody> {
      const res = await hub.inject({ method: 'GET', url: `/api/v1/devices${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return json<DeviceListBody>(res);
    }

    /** Every page of a listing, following nextCursor; checks each page's size. */
    async function all(filter: string, limit: number): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const sep = filter ? '&' : '';
        const page = await list(
          `?${filter}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.ok(page.items.length <= limit);
        if (page.nextCursor !== null) assert.equal(page.items.length, limit, 'only the last page is short');
        ids.push(...page.items.map((d) => d.id));
        if (page.nextCursor === null) return ids;
        cursor = page.nextCursor;
      }
      throw new Error('pagination did not end');
    }

    const idsWhere = (pred: (s: Spec) => boolean): string[] => fleet.filter(pred).map((s) => s.id);

    test('pages through every device in id order, without duplicates or gaps', async () => {
      for (const limit of [1, 7, 100, 250, 1000]) {
        const ids = await all('', limit);
        assert.deepEqual(
          ids,
          fleet.map((s) => s.id),
          `limit ${limit}`,
        );
      }
    });

    test('default page is 100 devices with a cursor to the next', async () => {
      const page = await list('');
      assert.equal(page.items.length, 100);
      assert.equal(page.items[0]?.id, 'dev-000');
      assert.equal(typeof page.nextCursor, 'string');
      const device = page.items[1];
      assert.equal(device?.name, 'Robot 1');
      assert.equal(device?.type, 'xle');
      assert.equal(device?.status.online, true);
      assert.deepEqual(device?.labels, { site: 'field', zone: 'b' });
    });

    test('filters by presence, type and label selector, also across pages', async () => {
      assert.deepEqual(
        await all('online=true', 9),
        idsWhere((s) => s.online),
      );
      assert.deepEqual(
        await all('online=false', 9),
        idsWhere((s) => !s.online),
      );
      assert.deepEqual(
        await all('type=tonypi', 10),
        idsWhere((s) => s.type === 'tonypi'),
      );
      assert.deepEqual(
        await all('label=site%3Dlab', 10),
        idsWhere((s) => s.labels['site'] === 'lab'),
      );
      // Repeated `label` parameters must all hold, as must comma-separated requirements.
      const labAndZoneA = idsWhere((s) => s.labels['site'] === 'lab' && s.labels['zone'] === 'a');
      assert.deepEqual(await all('label=site%3Dlab&label=zone%3Da', 10), labAndZoneA);
      assert.deepEqual(await all('label=site%3Dlab,zone%3Da', 10), labAndZoneA);
      assert.deepEqual(
        await all(`label=${encodeURIComponent('zone in (a,c),!gpu')}`, 25),
        idsWhere((s) => s.labels['zone'] !== 'b' && !s.labels['gpu']),
      );
      assert.deepEqual(
        await all('label=gpu&online=true&type=lekiwi', 5),
        idsWhere((s) => s.labels['gpu'] !== undefined && s.online && s.type === 'lekiwi'),
      );
      assert.deepEqual(await all('type=nonexistent', 10), []);
    });

    test('q searches id, name, hostname, serial and model, case-insensitively', async () => {
      assert.deepEqual(
        await all('q=DEV-01', 100),
        idsWhere((s) => s.id.startsWith('dev-01')),
      );
      assert.deepEqual(await all('q=robot%2012', 100), [
        'dev-012',
        'dev-120',
        'dev-121',
        'dev-122',
        'dev-123',
        'dev-124',
        'dev-125',
        'dev-126',
        'dev-127',
        'dev-128',
        'dev-129',
      ]);
      assert.deepEqual(await all('q=host-7.fleet', 100), ['dev-007']);
      assert.deepEqual(await all('q=sn-1743', 100), ['dev-249']); // serial of 249 is 249 * 7
      assert.deepEqual(
        await all('q=MODEL-MCU&online=false', 100),
        idsWhere((s) => s.type === 'mcu' && !s.online),
      );
    });

    test('limit must be 1..1000 and values must have the right type', async () => {
      const cases: Array<[string, string]> = [
        ['?limit=0', 'bad_request'],
        ['?limit=1001', 'bad_request'],
        ['?limit=ten', 'bad_request'],
        ['?limit=2.5', 'bad_request'],
        ['?online=maybe', 'bad_request'],
        ['?onlin=true', 'bad_request'],
        [`?q=${'x'.repeat(300)}`, 'bad_request'],
        ['?label=site%3D%3Dlab%3Dx', 'bad_selector'],
        [`?label=${encodeURIComponent('zone in (a')}`, 'bad_selector'],
        ['?label=Bad%20Key', 'bad_selector'],
        ['?cursor=garbage!', 'bad_cursor'],
        ['?cursor=ZTE6MTI', 'bad_cursor'], // an events cursor (base64url "e1:12")
      ];
      for (const [query, code] of cases) {
        const res = await hub.inject({ method: 'GET', url: `/api/v1/devices${query}` });
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        const body = json<ErrorBodyJson>(res);
        assert.deepEqual(Object.keys(body), ['error']);
        assert.equal(body.error.code, code, `${query}: ${body.error.message}`);
        assert.ok(body.error.message.length > 0);
      }
      const named = json<ErrorBodyJson>(await hub.inject({ url: '/api/v1/devices?limit=0' }));
      assert.equal(named.error.message, 'querystring/limit must be >= 1');
      const unknown = json<ErrorBodyJson>(await hub.inject({ url: '/api/v1/devices?onlin=true' }));
      assert.equal(unknown.error.message, "querystring has unknown property 'onlin'");
    });

    test('GET /api/v1/devices/{id}: the device, 404 when unknown, 400 when not an id', async () => {
      const res = await hub.inject({ url: '/api/v1/devices/dev-042' });
      assert.equal(res.statusCode, 200);
      const device = json<{ id: string; name: string; network: { hostname: string } }>(res);
      assert.equal(device.id, 'dev-042');
      assert.equal(device.network.hostname, 'host-42.Fleet.example');

      const missing = await hub.inject({ url: '/api/v1/devices/dev-999' });
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(json(missing), { error: { code: 'device_not_found', message: 'no device dev-999' } });

      for (const bad of ['bad.id', '-leading-dash', 'x'.repeat(129), 'sp%20ace']) {
        const r = await hub.inject({ url: `/api/v1/devices/${bad}` });
        assert.equal(r.statusCode, 400, bad);
        assert.equal(json<ErrorBodyJson>(r).error.code, 'bad_request');
      }
    });
  });
}
