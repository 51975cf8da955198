import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '@flotilla/agent';
import { FlotillaClient } from '@flotilla/sdk';
import { main } from '../main.js';
import { testIo } from '../testing/io.js';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// Port 1883 belongs to the machine's Mosquitto: every hub here takes a free MQTT port.
const QUIET = { FLOTILLA_LOG_LEVEL: 'silent', FLOTILLA_MQTT_PORT: '0' };

/**
 * Every hub these tests start, so one a failed test left running is stopped at the end: a hub
 * still listening would keep this file's process, and the whole suite, from ever finishing.
 */
const hubs: Array<{ io: ReturnType<typeof testIo>; done: Promise<number>; finished: boolean }> = [];
function runHub(argv: string[], io: ReturnType<typeof testIo>): Promise<number> {
  const entry = { io, done: main(argv, io), finished: false };
  void entry.done.finally(() => (entry.finished = true)).catch(() => undefined);
  hubs.push(entry);
  return entry.done;
}
after(async () => {
  for (const hub of hubs.filter((h) => !h.finished)) {
    hub.io.signal();
    await hub.done.catch(() => undefined);
  }
});

function urlFrom(out: string): string {
  const m = /Console and API +(https?:\/\/\S+)\//.exec(out);
  assert.ok(m, out);
  return m[1] as string;
}

test('hub prints its URLs, runs simulated robots, and stops cleanly on Ctrl-C', { timeout: 90_000 }, async () => {
  const data = dataDir();
  const io = testIo({ env: { ...QUIET, FLOTILLA_SIM: '2' } });
  const done = runHub(
    ['hub', '--port', '0', '--host', '127.0.0.1', '--data', data, '--sim-kind', 'xle', '--heartbeat-interval', '1s'],
    io,
  );
  await io.waitForOutput('Press Ctrl-C to stop.');
  const url = urlFrom(io.out());
  assert.match(io.out(), /^Flotilla hub \S+ is running\n/);
  assert.match(io.out(), new RegExp(`  API docs +${url}/api/docs\n`));
  assert.match(io.out(), new RegExp(`  Metrics +${url}/metrics\n`));
  assert.match(io.out(), new RegExp(`  Agents connect to ${url.replace('http', 'ws')}/ws/agent\n`));
  assert.match(
    io.out(),
    new RegExp(`  MQTT devices +mqtt://127\\.0\\.0\\.1:\\d+ and ${url.replace('http', 'ws')}/mqtt\n`),
  );
  assert.match(io.out(), new RegExp(`  Storage +SQLite in ${data}\n`));
  assert.match(io.out(), /Starting 2 simulated robots \(xle\)\n/);
  assert.deepEqual(await new FlotillaClient({ baseUrl: url }).health().then((h) => h.status), 'ok');
  io.signal('SIGTERM');
  assert.equal(await done, 0, io.err());
  assert.match(io.err(), /Stopping…\nStopped\.\n$/);
});

test('a hub that cannot start says why in one line and exits 1', { timeout: 90_000 }, async () => {
  const data = dataDir();
  const first = testIo({ env: QUIET });
  const running = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', data], first);
  await first.waitForOutput('Press Ctrl-C to stop.');
  const port = new URL(urlFrom(first.out())).port;

  const sameDir = testIo({ env: QUIET });
  assert.equal(await runHub(['hub', '--port', '0', '--data', data], sameDir), 1);
  assert.match(sameDir.err(), /^flotilla hub: [^\n]+\n$/);
  assert.doesNotMatch(sameDir.err(), /\n\s+at /, 'no stack trace');

  const samePort = testIo({ env: QUIET });
  assert.equal(await runHub(['hub', '--port', port, '--host', '127.0.0.1', '--data', dataDir()], samePort), 1);
  assert.match(samePort.err(), new RegExp(`^flotilla hub: port ${port} on 127.0.0.1 is already in use[^\\n]*\\n$`));

  first.signal();
  assert.equal(await running, 0);
});

test(
  'hub --tls serves HTTPS with its own CA; a bad certificate file is one line and exit 1',
  { timeout: 60_000 },
  async () => {
    const data = dataDir();
    const io = testIo({ env: QUIET });
    const done = runHub(['hub', '--tls', '--port', '0', '--host', '127.0.0.1', '--data', data], io);
    await io.waitForOutput('Press Ctrl-C to stop.');
    const url = urlFrom(io.out());
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(io.out(), new RegExp(`  Agents connect to ${url.replace('https', 'wss')}/ws/agent\n`));
    assert.match(io.out(), / {2}MQTT devices +mqtts:\/\/127\.0\.0\.1:\d+ and wss:\/\/127\.0\.0\.1:\d+\/mqtt\n/);
    assert.match(io.out(), new RegExp(`  Hub CA +${url}/api/v1/tls/ca \\(fingerprint [0-9A-F:]+\\)\n`));
    io.signal();
    assert.equal(await done, 0, io.err());

    const missing = testIo({ env: QUIET });
    const code = await runHub(
      [
        'hub',
        '--port',
        '0',
        '--data',
        dataDir(),
        '--tls-cert',
        join(data, 'nope.pem'),
        '--tls-key',
        join(data, 'nope.key'),
      ],
      missing,
    );
    assert.equal(code, 1);
    assert.match(missing.err(), /^flotilla hub: cannot read the TLS certificate file \S+nope\.pem: no such file\n$/);
    const half = testIo({ env: QUIET });
    assert.equal(await runHub(['hub', '--port', '0', '--data', dataDir(), '--tls-cert', join(data, 'x.pem')], half), 1);
    assert.match(half.err(), /^flotilla hub: [^\n]*--tls-key[^\n]*\n$/);
  },
);

test(
  '--nats puts the hub on NATS (the banner says where, with its prefix); --mqtt-port off runs without MQTT',
  { timeout: 90_000 },
  async () => {
    const prefix = `cli_t${process.pid}_${Date.now()}`;
    const io = testIo({
      env: { ...QUIET, FLOTILLA_NATS_URL: 'nats://127.0.0.1:4222', FLOTILLA_NATS_PREFIX: prefix },
    });
    const done = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir(), '--mqtt-port', 'off'], io);
    await io.waitForOutput('Press Ctrl-C to stop.');
    io.signal();
    assert.equal(await done, 0, io.err());
    assert.match(io.out(), new RegExp(` {2}NATS +nats://127\\.0\\.0\\.1:4222 \\(prefix ${prefix}\\): fleet shared`));
    assert.match(io.out(), / {2}MQTT devices +off \(--mqtt-port off\)\n/);
    const quiet = testIo({ env: QUIET });
    const plain = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir()], quiet);
    await quiet.waitForOutput('Press Ctrl-C to stop.');
    quiet.signal();
    assert.equal(await plain, 0);
    assert.doesNotMatch(quiet.out(), /NATS/, 'without --nats the hub is standalone');
  },
);

test(
  'a second Ctrl-C right after the first is the same keypress; one a second later forces the exit',
  { timeout: 90_000 },
  async () => {
    const io = testIo({ env: QUIET });
    const done = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir()], io);
    await io.waitForOutput('Press Ctrl-C to stop.');
    io.signal();
    io.signal();
    assert.equal(await done, 0);
    assert.doesNotMatch(io.err(), /before a clean shutdown/);

    const forced = testIo({ env: QUIET });
    const stopping = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir()], forced);
    await forced.waitForOutput('Press Ctrl-C to stop.');
    const client = new FlotillaClient({ baseUrl: urlFrom(forced.out()) });
    forced.signal();
    forced.clock.advance(1000);
    forced.signal();
    assert.equal(await stopping, 130);
    assert.match(forced.err(), /flotilla hub: stopped before a clean shutdown\n/);
    // the shutdown that was cut short goes on in this process; wait until the port is released
    for (
      let i = 0;
      i < 100 &&
      (await client.health().then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setImmediate(r));
  },
);

test(
  '--insecure-devices lets a device without a token in, and says so in the banner',
  { timeout: 90_000 },
  async () => {
    const io = testIo({ env: QUIET });
    const done = runHub(['hub', '--port', '0', '--host', '127.0.0.1', '--data', dataDir(), '--insecure-devices'], io);
    await io.waitForOutput('Press Ctrl-C to stop.');
    assert.match(io.out(), / {2}Devices +ANY device is accepted, without enrollment \(--insecure-devices\)\n/);
    const agent = new Agent({
      hubUrl: urlFrom(io.out()),
      id: 'lab-bench-1',
      stateDir: dataDir(),
      systemFacts: false,
      collectSystemMetrics: false,
    });
    const connected = new Promise<void>((resolve) =>
      agent.on('state', (e) => {
        if (e.state === 'Connected') resolve();
      }),
    );
    agent.start();
    await connected;
    await agent.stop();
    io.signal();
    assert.equal(await done, 0);
  },
);

test(
  '--mqtt-url serves MQTT devices through an external broker (the machine’s Mosquitto); a bad mapping file is one line',
  { timeout: 90_000 },
  async () => {
    const data = dataDir();
    const io = testIo({ env: QUIET });
    const prefix = `cli-${process.pid}`;
    const done = runHub(
      [
        'hub',
        ...['--port', '0', '--host', '127.0.0.1', '--data', data],
        ...['--mqtt-url', 'mqtt://127.0.0.1:1883', '--mqtt-prefix', prefix],
      ],
      io,
    );
    await io.waitForOutput('Press Ctrl-C to stop.');
    assert.match(
      io.out(),
      new RegExp(` {2}MQTT devices +through mqtt://127\\.0\\.0\\.1:1883 \\(bridge, topics ${prefix}/flotilla/…\\)\n`),
    );
    io.signal();
    assert.equal(await done, 0, io.err());

    const map = join(data, 'map.json');
    writeFileSync(
      map,
      JSON.stringify({ mappings: [{ name: 'x', devices: '*', topics: { telemetry: 'x/telemetry' } }] }),
    );
    const bad = testIo({ env: QUIET });
    assert.equal(await runHub(['hub', '--port', '0', '--data', dataDir(), '--mqtt-map', map], bad), 1);
    assert.match(bad.err(), /^flotilla hub: mapping x: telemetry topic x\/telemetry must hold \{device\} once\n$/);
  },
);
