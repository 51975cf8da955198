import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OperatorSessionIndicator, address } from './operator-session.js';

test('an established connection on a watched port is an operator session, read from the real /proc/net/tcp', async (t) => {
  const accepted: Socket[] = [];
  const server = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address_ = server.address();
  assert.ok(address_ && typeof address_ === 'object');
  const port = address_.port;
  const indicator = new OperatorSessionIndicator({ ports: [port] });
  assert.deepEqual(await indicator.read(), { active: false, streams: [] }, 'listening alone is no session');

  const client = createConnection(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  t.after(async () => {
    client.destroy();
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const reading = await indicator.read();
  assert.equal(reading.active, true);
  assert.equal(reading.operator, '127.0.0.1');
  assert.deepEqual(reading.streams, [`tcp:${port} 127.0.0.1`]);
});

test('a watched process is an operator session, its user the operator; no procfs reads inactive', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-proc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: number, comm: string, uid: number) => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
    writeFileSync(join(root, String(pid), 'status'), `Name:\t${comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
  };
  proc(101, 'sshd', 0);
  proc(202, 'teleop_console', 1001);
  writeFileSync(join(root, 'passwd'), 'root:x:0:0::/root:/bin/sh\nana:x:1001:1001::/home/ana:/bin/bash\n');
  const indicator = new OperatorSessionIndicator({
    processes: ['teleop_console'],
    procRoot: root,
    passwdFile: join(root, 'passwd'),
  });
  assert.deepEqual(await indicator.read(), { active: true, operator: 'ana', streams: ['process:teleop_console'] });
  const nowhere = new OperatorSessionIndicator({ ports: [8554], processes: ['x'], procRoot: join(root, 'missing') });
  assert.deepEqual(await nowhere.read(), { active: false, streams: [] });
});

test('procfs addresses: IPv4, IPv4-mapped IPv6 and IPv6', () => {
  assert.equal(address('0100007F'), '127.0.0.1');
  assert.equal(address('0000000000000000FFFF00000700000A'), '10.0.0.7');
  assert.equal(address('00000000000000000000000001000000'), '0:0:0:0:0:0:0:1');
});
