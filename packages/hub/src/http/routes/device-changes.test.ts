import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Device, StoredEvent } from '@flotilla/protocol';
import { ENGINES } from '../../storage/testing.js';
import { connectDevice, json, openTestHub, type ErrorBodyJson, type TestHub } from '../testing.js';

/** PATCH and DELETE on `/api/v1/devices/{id}`, on both storage engines. */
for (const engine of ENGINES) {
  describe(`PATCH and DELETE /api/v1/devices/{id} on ${engine}`, () => {
    let hub: TestHub;

    before(async () => {
      hub = await openTestHub(engine, { bodyLimit: 16 * 1024 });
      await connectDevice(hub, 'robot-1', {
        name: 'One',
        type: 'lekiwi',
        labels: { site: 'lab', zone: 'a', old: 'x' },
      });
      await connectDevice(hub, 'robot-2', { name: 'Two' });
      await connectDevice(hub, 'robot-3', { name: 'Three' });
    });
    after(() => hub?.dispose());

    async function events(device: string): Promise<StoredEvent[]> {
      return json<{ items: StoredEvent[] }>(await hub.inject({ url: `/api/v1/events?device=${device}&limit=1000` }))
        .items;
    }

    test('renames and merges labels (null removes), recording who and which request', async () => {
      hub.clock.advance(1000);
      const res = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-1',
        headers: { 'x-request-id': 'req-patch-1' },
        payload: { name: 'Kiwi', labels: { zone: 'b', old: null, team: 'ops' } },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['x-request-id'], 'req-patch-1');
      const device = json<Device>(res);
      assert.equal(device.name, 'Kiwi');
      assert.deepEqual(device.labels, { site: 'lab', zone: 'b', team: 'ops' });
      assert.equal(device.type, 'lekiwi', 'facts are untouched');
      assert.equal(device.updatedAt, hub.clock.now());

      assert.deepEqual(json(await hub.inject({ url: '/api/v1/devices/robot-1' })), device);
      const updated = (await events('robot-1')).filter((e) => e.type === 'DeviceUpdated');
      assert.equal(updated.length, 1);
      assert.deepEqual(updated[0]?.data, { name: 'Kiwi', labels: { zone: 'b', old: null, team: 'ops' } });
      assert.deepEqual(updated[0]?.metadata, {
        actor: 'user:admin',
        correlationId: 'req-patch-1',
        causationId: null,
      });
    });

    test('a PATCH that changes nothing writes no event', async () => {
      const before = (await events('robot-1')).length;
      const res = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-1',
        payload: { name: 'Kiwi', labels: { zone: 'b' } },
      });
      assert.equal(res.statusCode, 200);
      assert.equal((await events('robot-1')).length, before);
    });

    test('refuses bad PATCH bodies with 400 and the reason', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ labels: { 'bad key': 'x' } }, /body\/labels: invalid label key 'bad key'/],
        [{ labels: { zone: 'has space' } }, /body\/labels\/zone: invalid label value/],
        [{ labels: { zone: 'x'.repeat(64) } }, /body\/labels\/zone/],
        [{ labels: { zone: 5 } }, /body\/labels\/zone/],
        [{ name: '' }, /body\/name must NOT have fewer than 1 characters/],
        [{ name: 'ok', colour: 'red' }, /body has unknown property 'colour'/],
        [{ labels: 'site=lab' }, /body\/labels must be object/],
        [[], /body must be object/],
      ];
      for (const [payload, message] of cases) {
        const res = await hub.inject({
          method: 'PATCH',
          url: '/api/v1/devices/robot-2',
          payload: payload as object,
        });
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
        const body = json<ErrorBodyJson>(res);
        assert.equal(body.error.code, 'bad_request');
        assert.match(body.error.message, message);
      }
      const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
      const many = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-2',
        payload: { labels: tooMany },
      });
      assert.equal(many.statusCode, 400);
      assert.equal(json<Device>(await hub.inject({ url: '/api/v1/devices/robot-2' })).name, 'Two', 'nothing changed');
    });

    test('refuses bodies that are not JSON, too large, or of another type', async () => {
      const notJson = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-2',
        headers: { 'content-type': 'application/json' },
        payload: '{"name":',
      });
      assert.equal(notJson.statusCode, 400);
      assert.equal(json<ErrorBodyJson>(notJson).error.code, 'bad_request');

      const large = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-2',
        payload: { name: 'x'.repeat(20_000) },
      });
      assert.equal(large.statusCode, 413);
      assert.equal(json<ErrorBodyJson>(large).error.code, 'payload_too_large');

      const text = await hub.inject({
        method: 'PATCH',
        url: '/api/v1/devices/robot-2',
        headers: { 'content-type': 'text/plain' },
        payload: 'name=x',
      });
      assert.equal(text.statusCode, 415);
      assert.equal(json<ErrorBodyJson>(text).error.code, 'unsupported_media_type');
    });

    test('PATCH of an unknown device is 404', async () => {
      const res = await hub.inject({ method: 'PATCH', url: '/api/v1/devices/nobody', payload: { name: 'x' } });
      assert.equal(res.statusCode, 404);
      assert.equal(json<ErrorBodyJson>(res).error.code, 'device_not_found');
    });

    test('DELETE decommissions: 204, disconnected first when online, gone from the registry', async () => {
      const res = await hub.inject({
        method: 'DELETE',
        url: '/api/v1/devices/robot-3',
        headers: { 'x-request-id': 'req-del' },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.body, '');
      assert.equal((await hub.inject({ url: '/api/v1/devices/robot-3' })).statusCode, 404);
      const ids = json<{ items: Device[] }>(await hub.inject({ url: '/api/v1/devices' })).items.map((d) => d.id);
      assert.deepEqual(ids, ['robot-1', 'robot-2']);

      const log = await events('robot-3');
      assert.deepEqual(
        log.map((e) => e.type),
        ['DeviceRegistered', 'DeviceConnected', 'DeviceDisconnected', 'DeviceDecommissioned'],
      );
      const [disconnected, decommissioned] = log.slice(-2);
      assert.equal(disconnected?.data['reason'], 'decommissioned');
      assert.equal(decommissioned?.metadata.actor, 'user:admin');
      assert.equal(decommissioned?.metadata.correlationId, 'req-del');

      const again = await hub.inject({ method: 'DELETE', url: '/api/v1/devices/robot-3' });
      assert.equal(again.statusCode, 404);
      assert.equal(json<ErrorBodyJson>(again).error.code, 'device_not_found');
    });
  });
}
