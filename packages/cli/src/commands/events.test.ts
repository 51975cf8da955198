import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { TestPeer, makeEvent } from '@flotilla/sdk/testing';
import type { StoredEvent } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';

let peer: TestPeer;
before(async () => {
  peer = await new TestPeer().start();
});
after(() => peer.stop());
beforeEach(() => {
  peer.reset();
  peer.requests.length = 0;
  peer.events = [
    { ...makeEvent(1, 'kiwi-1', 'DeviceRegistered'), data: { name: 'kiwi-1' } },
    makeEvent(2, 'kiwi-1', 'DeviceConnected'),
    makeEvent(3, 'xle-2', 'DeviceConnected'),
  ];
});

// makeEvent times are 1_700_000_000_000 + position s
const NOW = 1_700_000_000_000 + 10_000;

test('events prints the latest events oldest first, as a table', async () => {
  const io = testIo({ now: NOW, env: { FLOTILLA_HUB: peer.url } });
  assert.equal(await main(['events'], io), 0, io.err());
  assert.equal(
    io.out(),
    [
      'TIME                  AGE     DEVICE  TYPE              ACTOR          DATA',
      '2023-11-14T22:13:21Z  9s ago  kiwi-1  DeviceRegistered  device:kiwi-1  {"name":"kiwi-1"}',
      '2023-11-14T22:13:22Z  8s ago  kiwi-1  DeviceConnected   device:kiwi-1',
      '2023-11-14T22:13:23Z  7s ago  xle-2   DeviceConnected   device:xle-2',
      '',
    ].join('\n'),
  );
  const q = peer.requests.at(-1)?.url.searchParams;
  assert.equal(q?.get('order'), 'desc');
  assert.equal(q?.get('limit'), '50');
});

test('filters: device, comma-separated and repeated types, since as a duration; --json', async () => {
  const io = testIo({ now: NOW, env: { FLOTILLA_HUB: peer.url } });
  assert.equal(
    await main(
      [
        'events',
        '--device',
        'kiwi-1',
        '--type',
        'DeviceConnected,DeviceRegistered',
        '--type',
        'DeviceUpdated',
        '--since',
        '1h',
        '--limit',
        '2',
        '--json',
      ],
      io,
    ),
    0,
  );
  const q = peer.requests.at(-1)?.url.searchParams;
  assert.equal(q?.get('device'), 'kiwi-1');
  assert.deepEqual(q?.getAll('type'), ['DeviceConnected', 'DeviceRegistered', 'DeviceUpdated']);
  assert.equal(q?.get('since'), new Date(NOW - 3600_000).toISOString());
  const events = JSON.parse(io.out()) as StoredEvent[];
  assert.deepEqual(
    events.map((e) => e.position),
    [1, 2],
  );
});

test('--follow prints the history, then live events once each, until Ctrl-C', { timeout: 15_000 }, async () => {
  const io = testIo({ now: NOW, env: { FLOTILLA_HUB: peer.url } });
  const done = main(['events', '--follow', '--device', 'kiwi-1'], io);
  const conn = await peer.nextConnection();
  assert.deepEqual(await conn.nextFrame(), { type: 'subscribe', id: 's1', subjects: ['flotilla.kiwi-1.event.>'] });
  await io.waitForOutput('DeviceConnected');
  // the hub republishes an event the history already showed, then a new one
  peer.publish('flotilla.kiwi-1.event.DeviceConnected', makeEvent(2, 'kiwi-1', 'DeviceConnected'));
  peer.publish('flotilla.kiwi-1.event.DeviceDisconnected', makeEvent(4, 'kiwi-1', 'DeviceDisconnected'));
  await io.waitForOutput('DeviceDisconnected');
  io.signal('SIGINT');
  assert.equal(await done, 0);
  const lines = io.out().trimEnd().split('\n');
  assert.equal(lines.length, 3, io.out());
  assert.match(lines[0] ?? '', /^2023-11-14T22:13:21Z +kiwi-1 +DeviceRegistered +device:kiwi-1 +\{"name":"kiwi-1"\}$/);
  assert.match(lines[2] ?? '', /DeviceDisconnected/);
});

test('--follow --json writes one event per line; --type narrows the subjects', { timeout: 15_000 }, async () => {
  peer.events = [];
  const io = testIo({ now: NOW, env: { FLOTILLA_HUB: peer.url } });
  const done = main(['events', '-f', '--json', '--type', 'DeviceConnected,DeviceDisconnected'], io);
  const conn = await peer.nextConnection();
  assert.deepEqual(await conn.nextFrame(), {
    type: 'subscribe',
    id: 's1',
    subjects: ['flotilla.*.event.DeviceConnected', 'flotilla.*.event.DeviceDisconnected'],
  });
  peer.publish('flotilla.r1.event.DeviceConnected', makeEvent(7, 'r1', 'DeviceConnected'));
  await io.waitForOutput('"position":7');
  io.signal('SIGTERM');
  assert.equal(await done, 0);
  assert.deepEqual(JSON.parse(io.out()), makeEvent(7, 'r1', 'DeviceConnected'));
});

test('--follow catches up on events missed while the connection was down', { timeout: 15_000 }, async () => {
  const io = testIo({ now: NOW, env: { FLOTILLA_HUB: peer.url } });
  const done = main(['events', '--follow'], io);
  const first = await peer.nextConnection();
  await first.nextFrame();
  await io.waitForOutput('xle-2');
  peer.events.push(makeEvent(4, 'xle-2', 'DeviceDisconnected'));
  first.socket.terminate();
  await io.waitForError('lost the hub');
  io.clock.advance(30_000);
  const second = await peer.nextConnection();
  await second.nextFrame();
  await io.waitForOutput('DeviceDisconnected');
  io.signal();
  assert.equal(await done, 0);
  assert.match(io.err(), /lost the hub/);
  assert.match(io.err(), /reconnected/);
  assert.equal(io.out().trimEnd().split('\n').length, 4);
});

test('--follow refuses a device id that cannot be a subject', async () => {
  const io = testIo({ env: { FLOTILLA_HUB: peer.url } });
  assert.equal(await main(['events', '--follow', '--device', 'a.b'], io), 2);
  assert.equal(io.err(), 'flotilla events: --device "a.b" is not a device id (see flotilla events --help)\n');
});
