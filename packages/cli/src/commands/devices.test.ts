import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestPeer, makeDevice } from '@flotilla/sdk/testing';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
let peer: TestPeer;

before(async () => {
  peer = await new TestPeer().start();
});
after(() => peer.stop());
beforeEach(() => {
  peer.devices.clear();
  peer.requests.length = 0;
  peer.devices.set(
    'kiwi-1',
    makeDevice('kiwi-1', {
      name: 'Kiwi one',
      labels: { site: 'lab' },
      network: { ips: ['10.0.0.7'] },
      software: { agentVersion: '0.1.0' },
      status: { online: true, lastSeen: NOW - 3000, connectedAt: NOW - 60_000, uptime: 7380, transport: 'ws' },
    }),
  );
  peer.devices.set(
    'xle-22',
    makeDevice('xle-22', {
      type: 'xle',
      labels: { site: 'field', zone: 'b' },
      status: {
        online: false,
        lastSeen: NOW - 2 * 3600_000,
        connectedAt: NOW - 3 * 3600_000,
        uptime: null,
        transport: 'ws',
      },
    }),
  );
});

async function run(argv: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) {
  const io = testIo({
    now: NOW,
    env: { FLOTILLA_HUB: peer.url, ...options.env },
    ...(options.tty ? { tty: true } : {}),
  });
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

test('devices prints an aligned table with relative times', async () => {
  const r = await run(['devices']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.equal(
    r.out,
    [
      'ID      NAME      TYPE    STATUS   TELEOP  LAST SEEN  ADDRESS   AGENT  LABELS',
      'kiwi-1  Kiwi one  lekiwi  online           3s ago     10.0.0.7  0.1.0  site=lab',
      'xle-22  xle-22    xle     offline          2h ago                      site=field,zone=b',
      '',
    ].join('\n'),
  );
});

test('devices --json prints the devices as a JSON array', async () => {
  const r = await run(['devices', '--json']);
  assert.equal(r.code, 0);
  const parsed = JSON.parse(r.out) as { id: string }[];
  assert.deepEqual(
    parsed.map((d) => d.id),
    ['kiwi-1', 'xle-22'],
  );
  assert.deepEqual(parsed[0], peer.devices.get('kiwi-1'));
});

test('filters become query parameters; --token becomes a Bearer header', async () => {
  const r = await run([
    'devices',
    '--offline',
    '--type',
    'xle',
    '--label',
    'site=field',
    '--label',
    'zone=b',
    '-q',
    'XLE',
    '--limit',
    '5',
    '--token',
    't0k',
  ]);
  assert.equal(r.code, 0, r.err);
  const req = peer.requests.at(-1);
  assert.ok(req);
  assert.equal(req.url.searchParams.get('online'), 'false');
  assert.equal(req.url.searchParams.get('type'), 'xle');
  assert.deepEqual(req.url.searchParams.getAll('label'), ['site=field', 'zone=b']);
  assert.equal(req.url.searchParams.get('q'), 'XLE');
  assert.equal(req.url.searchParams.get('limit'), '5');
  assert.equal(req.headers.authorization, 'Bearer t0k');
  assert.match(r.out, /^xle-22 /m);
  assert.doesNotMatch(r.out, /kiwi-1/);
});

test('one page unless --all; the hint about more goes to stderr', async () => {
  for (let i = 0; i < 5; i++) peer.devices.set(`m-${i}`, makeDevice(`m-${i}`));
  const page = await run(['devices', '--limit', '2', '--json']);
  assert.equal((JSON.parse(page.out) as unknown[]).length, 2);
  assert.equal(page.err, 'Showing the first 2 devices; --all lists every one.\n');
  const all = await run(['devices', '--limit', '2', '--all', '--json']);
  assert.equal((JSON.parse(all.out) as unknown[]).length, 7);
  assert.equal(all.err, '');
});

test('no match says so on stderr and exits 0', async () => {
  const r = await run(['devices', '--type', 'drone']);
  assert.equal(r.code, 0);
  assert.equal(r.out, '');
  assert.equal(r.err, 'No devices match.\n');
});

test('colours only on a terminal, and not with NO_COLOR', async () => {
  const tty = await run(['devices'], { tty: true });
  const ESC = '\u001b[';
  assert.ok(tty.out.includes(`${ESC}32monline${ESC}39m`), tty.out);
  const noColor = await run(['devices'], { tty: true, env: { NO_COLOR: '1' } });
  assert.ok(!noColor.out.includes(ESC));
  const piped = await run(['devices']);
  assert.ok(!piped.out.includes(ESC));
});

test('device ID prints a readable block; --json the device itself', async () => {
  const r = await run(['device', 'kiwi-1']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines[0], 'kiwi-1  Kiwi one');
  assert.ok(lines.includes('  status         online · connected 1m ago · last seen 3s ago · via ws · up 2h 3m'), r.out);
  assert.ok(lines.includes('  labels         site=lab'), r.out);
  assert.ok(lines.includes('  teleoperation  inactive'), r.out);
  const json = await run(['device', 'xle-22', '--json']);
  assert.deepEqual(JSON.parse(json.out), peer.devices.get('xle-22'));
});

test('a device that does not exist: one line, exit 1', async () => {
  const r = await run(['device', 'ghost']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, 'flotilla device: device ghost not found\n');
});

test('a hub that is not there: one line naming it, exit 1', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const argv of [['devices'], ['device', 'x'], ['events']]) {
    const io = testIo({ env: { FLOTILLA_HUB: 'http://127.0.0.1:9' } });
    const code = await main([...argv, '--hub', url], io);
    assert.equal(code, 1);
    assert.equal(io.out(), '');
    assert.equal(
      io.err(),
      `flotilla ${argv[0]}: cannot reach the hub at ${url} (ECONNREFUSED); is the hub running? (set --hub or FLOTILLA_HUB)\n`,
    );
  }
});

test('--hub before the command works like after it', async () => {
  const io = testIo({ now: NOW });
  assert.equal(await main(['--hub', peer.url, 'devices', '--json'], io), 0, io.err());
  assert.equal((JSON.parse(io.out()) as unknown[]).length, 2);
});
