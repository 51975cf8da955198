import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlotillaClient } from './client.js';
import { FlotillaApiError, FlotillaConnectionError, SdkErrorCodes } from './errors.js';
import { TestPeer, makeDevice, makeEvent } from './testing/peer.js';

let peer: TestPeer;
let client: FlotillaClient;

before(async () => {
  peer = await new TestPeer().start();
});
after(() => peer.stop());
beforeEach(() => {
  peer.devices.clear();
  peer.requests.length = 0;
  peer.ready = true;
  for (let i = 1; i <= 5; i++) {
    peer.devices.set(
      `r${i}`,
      makeDevice(`r${i}`, { labels: { site: i % 2 ? 'lab' : 'field' }, type: i <= 3 ? 'lekiwi' : 'xle' }),
    );
  }
  peer.events = [1, 2, 3, 4].map((p) =>
    makeEvent(p, p % 2 ? 'r1' : 'r2', p <= 2 ? 'DeviceRegistered' : 'DeviceConnected'),
  );
  client = new FlotillaClient({ baseUrl: peer.url, token: 'secret-token' });
});

function lastRequest() {
  const r = peer.requests.at(-1);
  assert.ok(r, 'a request reached the peer');
  return r;
}

test('listDevices sends every filter as the documented query parameters', async () => {
  const page = await client.listDevices({
    online: true,
    type: 'lekiwi',
    label: ['site=lab', 'zone=a'],
    q: 'R',
    limit: 2,
  });
  const { url, headers } = lastRequest();
  assert.equal(url.pathname, '/api/v1/devices');
  assert.equal(url.searchParams.get('online'), 'true');
  assert.equal(url.searchParams.get('type'), 'lekiwi');
  assert.deepEqual(url.searchParams.getAll('label'), ['site=lab', 'zone=a']);
  assert.equal(url.searchParams.get('q'), 'R');
  assert.equal(url.searchParams.get('limit'), '2');
  assert.equal(url.searchParams.has('cursor'), false);
  assert.equal(headers.authorization, 'Bearer secret-token');
  assert.equal(headers.accept, 'application/json');
  assert.deepEqual(page, { items: [], nextCursor: null }, 'the peer found no device with zone=a');
});

test('listDevices returns one page and its cursor; the cursor fetches the next page', async () => {
  const first = await client.listDevices({ limit: 2 });
  assert.deepEqual(
    first.items.map((d) => d.id),
    ['r1', 'r2'],
  );
  assert.equal(typeof first.nextCursor, 'string');
  const second = await client.listDevices({ limit: 2, cursor: first.nextCursor ?? undefined });
  assert.deepEqual(
    second.items.map((d) => d.id),
    ['r3', 'r4'],
  );
});

test('iterateDevices follows nextCursor until the last page', async () => {
  const ids: string[] = [];
  for await (const d of client.iterateDevices({ limit: 2, label: 'site=lab' })) ids.push(d.id);
  assert.deepEqual(ids, ['r1', 'r3', 'r5']);
  const cursors = peer.requests.map((r) => r.url.searchParams.get('cursor'));
  assert.equal(peer.requests.length, 2);
  assert.equal(cursors[0], null);
  assert.notEqual(cursors[1], null);
  assert.ok(
    peer.requests.every((r) => r.url.searchParams.get('label') === 'site=lab'),
    'filters are kept on every page',
  );
});

test('getDevice encodes the id; a missing device is a FlotillaApiError with the hub code', async () => {
  assert.equal((await client.getDevice('r2')).id, 'r2');
  const err = await client.getDevice('no such/robot').catch((e: unknown) => e);
  assert.ok(err instanceof FlotillaApiError);
  assert.equal(err.status, 404);
  assert.equal(err.code, 'device_not_found');
  assert.equal(err.message, 'device no such/robot not found');
  assert.equal(lastRequest().url.pathname, '/api/v1/devices/no%20such%2Frobot');
});

test('updateDevice PATCHes a JSON body and returns the device', async () => {
  peer.devices.set('r1', makeDevice('r1', { labels: { site: 'lab', old: 'x' } }));
  const d = await client.updateDevice('r1', { name: 'Kiwi', labels: { zone: 'b', old: null } });
  assert.equal(d.name, 'Kiwi');
  assert.deepEqual(d.labels, { site: 'lab', zone: 'b' });
  const req = lastRequest();
  assert.equal(req.method, 'PATCH');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body), { name: 'Kiwi', labels: { zone: 'b', old: null } });
});

test('deleteDevice resolves on 204 and the device is gone', async () => {
  assert.equal(await client.deleteDevice('r3'), undefined);
  assert.equal(lastRequest().method, 'DELETE');
  await assert.rejects(client.getDevice('r3'), { code: 'device_not_found', status: 404 });
});

test('listEvents sends device, repeated types, time bounds, order and limit', async () => {
  const since = new Date('2023-01-02T03:04:05.000Z');
  const page = await client.listEvents({
    device: 'r1',
    type: ['DeviceRegistered', 'DeviceConnected'],
    since,
    until: 1_800_000_000_000,
    actor: 'user:admin',
    order: 'desc',
    limit: 10,
  });
  const { url } = lastRequest();
  assert.equal(url.pathname, '/api/v1/events');
  assert.equal(url.searchParams.get('device'), 'r1');
  assert.deepEqual(url.searchParams.getAll('type'), ['DeviceRegistered', 'DeviceConnected']);
  assert.equal(url.searchParams.get('since'), '2023-01-02T03:04:05.000Z');
  assert.equal(url.searchParams.get('until'), '1800000000000');
  assert.equal(url.searchParams.get('actor'), 'user:admin');
  assert.equal(url.searchParams.get('order'), 'desc');
  assert.deepEqual(
    page.items.map((e) => e.position),
    [3, 1],
  );
});

test('iterateEvents walks every page', async () => {
  const positions: number[] = [];
  for await (const e of client.iterateEvents({ limit: 1 })) positions.push(e.position);
  assert.deepEqual(positions, [1, 2, 3, 4]);
});

test('health and ready; a 503 from ready is a status, not an exception', async () => {
  assert.deepEqual(await client.health(), { status: 'ok', version: '0.1.0', uptime: 12.5 });
  assert.deepEqual(await client.ready(), { ready: true });
  peer.ready = false;
  assert.deepEqual(await client.ready(), {
    ready: false,
    code: 'storage_unavailable',
    message: 'storage is not reachable',
  });
});

test('an error status without the documented body is http_error; a non-JSON success is bad_response', async () => {
  const raw = client as unknown as { call(method: string, path: string, call: object): Promise<unknown> };
  await assert.rejects(raw.call('GET', 'api/v1/proxy-error', {}), (err: unknown) => {
    assert.ok(err instanceof FlotillaApiError);
    assert.equal(err.status, 502);
    assert.equal(err.code, SdkErrorCodes.HTTP_ERROR);
    assert.equal(err.message, 'HTTP 502 Bad Gateway');
    return true;
  });
  await assert.rejects(raw.call('GET', 'api/v1/not-json', {}), { code: SdkErrorCodes.BAD_RESPONSE, status: 200 });
});

test('a hub that is not listening is a FlotillaConnectionError naming the URL', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const err = await new FlotillaClient({ baseUrl: url }).listDevices().catch((e: unknown) => e);
  assert.ok(err instanceof FlotillaConnectionError);
  assert.equal(err.code, 'hub_unreachable');
  assert.equal(err.url, url);
  assert.equal(err.message, `cannot reach the hub at ${url} (ECONNREFUSED)`);
});

test('an aborted request rejects with the abort, not as a connection error', async () => {
  const controller = new AbortController();
  controller.abort();
  const err = await client.health({ signal: controller.signal }).catch((e: unknown) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'AbortError');
});

test('a base URL with a path prefix keeps the prefix; no token means no Authorization header', async () => {
  const prefixed = new FlotillaClient({ baseUrl: `${peer.url}/prefix` });
  await prefixed.health();
  assert.equal(lastRequest().url.pathname, '/prefix/api/v1/health');
  assert.equal(lastRequest().headers.authorization, undefined);
});

test('a custom fetch is used for every request', async () => {
  const seen: string[] = [];
  const custom = new FlotillaClient({
    baseUrl: peer.url,
    fetch: (url, init) => {
      seen.push(`${init.method} ${url}`);
      return fetch(url, init);
    },
  });
  await custom.getDevice('r1');
  assert.deepEqual(seen, [`GET ${peer.url}/api/v1/devices/r1`]);
});

test('the constructor refuses a base URL that is not http(s)', () => {
  assert.throws(() => new FlotillaClient({ baseUrl: 'ftp://hub' }), /baseUrl must be http\(s\)/);
  assert.throws(() => new FlotillaClient({ baseUrl: 'not a url' }), TypeError);
});
