import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredEvent } from '@flotilla/protocol';
import { ENGINES } from '../../storage/testing.js';
import {
  TEST_START,
  connectDevice,
  disconnectDevice,
  json,
  openTestHub,
  type ErrorBodyJson,
  type TestHub,
} from '../testing.js';

/** `/api/v1/events` filters and pagination, on both storage engines. */
interface EventList {
  items: StoredEvent[];
  nextCursor: string | null;
}

for (const engine of ENGINES) {
  describe(`GET /api/v1/events on ${engine}`, () => {
    let hub: TestHub;
    let log: StoredEvent[];

    before(async () => {
      hub = await openTestHub(engine);
      // Ten devices, one minute apart: register + connect, then every other one disconnects,
      // and every third is renamed through the API.
      for (let i = 0; i < 10; i++) {
        const session = await connectDevice(hub, `bot-${i}`, { type: 'xle' });
        hub.clock.advance(1000);
        if (i % 2 === 1) await disconnectDevice(hub, `bot-${i}`, session);
        if (i % 3 === 0) {
          const res = await hub.inject({
            method: 'PATCH',
            url: `/api/v1/devices/bot-${i}`,
            payload: { name: `Bot ${i}` },
          });
          assert.equal(res.statusCode, 200);
        }
        hub.clock.advance(59_000);
      }
      log = await hub.storage.readEvents({ limit: 10_000, order: 'asc' });
      // registered + connected each, 5 disconnects, 4 renames; the bootstrap admin and its login
      assert.equal(log.length, 10 * 2 + 5 + 4 + 2);
    });
    after(() => hub?.dispose());

    async function list(query: string): Promise<EventList> {
      const res = await hub.inject({ url: `/api/v1/events${query}` });
      assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
      return json<EventList>(res);
    }

    async function all(query: string, limit: number): Promise<StoredEvent[]> {
      const out: StoredEvent[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await list(`?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        out.push(...page.items);
        if (page.nextCursor === null) return out;
        cursor = page.nextCursor;
      }
      throw new Error('pagination did not end');
    }

    const positions = (events: StoredEvent[]): number[] => events.map((e) => e.position);

    test('pages through the whole log in both orders without duplicates or gaps', async () => {
      for (const limit of [1, 4, 1000]) {
        assert.deepEqual(positions(await all('order=asc', limit)), positions(log), `asc, limit ${limit}`);
        assert.deepEqual(positions(await all('order=desc', limit)), positions(log).reverse(), `desc, limit ${limit}`);
      }
      const first = await list('');
      assert.deepEqual(first.items, log.slice(0, 100), 'ascending and 100 by default');
    });

    test('filters by device, type (repeated or comma-separated) and actor', async () => {
      assert.deepEqual(
        await all('device=bot-3', 2),
        log.filter((e) => e.aggregateId === 'bot-3'),
      );
      const connects = log.filter((e) => e.type === 'DeviceConnected' || e.type === 'DeviceDisconnected');
      assert.deepEqual(await all('type=DeviceConnected&type=DeviceDisconnected', 3), connects);
      assert.deepEqual(await all('type=DeviceConnected,DeviceDisconnected', 3), connects);
      assert.deepEqual(await all('type=DeviceConnected%2C%20DeviceDisconnected', 100), connects);
      const api = log.filter((e) => e.metadata.actor === 'user:admin');
      assert.deepEqual(
        api.map((e) => e.aggregateId),
        // The fixture's login as admin, then the four renames.
        ['user:admin', 'bot-0', 'bot-3', 'bot-6', 'bot-9'],
      );
      assert.deepEqual(await all('actor=user:admin', 3), api);
      assert.deepEqual(await all('device=bot-3&type=DeviceUpdated&actor=user%3Aadmin', 10), api.slice(2, 3));
      assert.deepEqual(await all('device=bot-99', 10), []);
    });

    test('filters by time: since inclusive, until exclusive, as milliseconds or ISO 8601', async () => {
      const from = TEST_START + 2 * 60_000; // bot-2's events onward
      const to = TEST_START + 5 * 60_000; // up to bot-4's
      const expected = log.filter((e) => e.ts >= from && e.ts < to);
      assert.ok(expected.length > 0);
      assert.deepEqual(await all(`since=${from}&until=${to}`, 5), expected);
      const iso = (ms: number): string => new Date(ms).toISOString();
      assert.deepEqual(await all(`since=${iso(from)}&until=${iso(to)}`, 5), expected);
      const offset = '2024-01-01T01:02:00%2B01:00'; // = TEST_START + 2 min, in another zone
      assert.deepEqual(await all(`since=${offset}&until=${to}`, 5), expected);
      assert.deepEqual(positions(await all(`since=${from}&until=${to}&order=desc`, 2)), positions(expected).reverse());
    });

    test('refuses bad parameters with 400 and a reason', async () => {
      const cases: Array<[string, string, RegExp]> = [
        ['since=yesterday', 'bad_request', /querystring\/since must be ISO 8601/],
        ['until=2024-01-01T00:00:00', 'bad_request', /querystring\/until/],
        ['type=Bad%20Type', 'bad_request', /invalid event type "Bad Type"/],
        ['order=sideways', 'bad_request', /querystring\/order must be one of "asc", "desc"/],
        ['device=no.dots', 'bad_request', /querystring\/device must match pattern/],
        ['limit=5000', 'bad_request', /querystring\/limit must be <= 1000/],
        ['cursor=%24%24%24', 'bad_cursor', /cursor/],
        ['cursor=ZDE6Ym90LTE', 'bad_cursor', /cursor/], // a device cursor (base64url "d1:bot-1")
        ['colour=red', 'bad_request', /unknown property 'colour'/],
      ];
      for (const [query, code, message] of cases) {
        const res = await hub.inject({ url: `/api/v1/events?${query}` });
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        const body = json<ErrorBodyJson>(res);
        assert.equal(body.error.code, code, query);
        assert.match(body.error.message, message, query);
      }
    });
  });
}
