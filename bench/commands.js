// bench:commands — command round trip, measured coordinated-omission-correct: commands are
// issued at a fixed rate (an open loop), each with an intended send time on that schedule, and its
// latency runs from the intended time to its result, so a stall delays every command behind it
// and shows in the percentiles instead of hiding them. Devices run in their own process
// (bench/commands-devices.js), the hubs in theirs (`flotilla hub`).
//
// Scenarios (the hub rows each with --devices connected devices, answering at once):
// - the machine floors (no hub, no device; bench/floor-server.js in a process of its own, as a hub is):
//   `empty node:http server` answers a keep-alive GET with a fixed small JSON (the floor under
//   every REST row), `WebSocket echo` sends each small JSON frame straight back over one `ws`
//   connection (the floor under the device hop): what this machine's loopback and two Node
//   processes cost per round trip before any hub code;
// - `HTTP floor`: a keep-alive GET of /api/v1/ready on the ws hub at the same rate: what a REST
//   round trip costs on the hub before any command work;
// - `ws, in-process bus` and `mqtt, in-process bus`: one hub (SQLite); commands through its REST
//   API (`POST /api/v1/devices/{id}/commands`), delivered over /ws/agent or MQTT;
// - `ws, NATS relay`: two hubs on NATS + PostgreSQL, devices on hub A, commands through hub B's
//   REST API (relayed by NATS request/reply to A);
// - `ws, NATS request`: a service's NATS request on `flotilla.<id>.cmd.hal.v1.led`, answered by
//   the hub holding the device;
// - `raw NATS request/reply`: the same NATS server, a plain responder in the device process: the
//   floor under the NATS rows;
// - with --telemetry N (default 20,000 messages/s), `ws, in-process bus` again while the devices
//   stream N telemetry messages per second; the row says how many per second the hub read (a
//   hub that reads fewer than offered leaves a backlog in the devices' sockets that every answer
//   queues behind).
//
//   npm run bench:commands -- [--devices 1000] [--rate 200] [--seconds 10] [--telemetry 20000]
//                             [--only floor,ws,mqtt,nats,raw,load]
//
// `hub loop p99`: the hub's own event-loop delay p99 over the row (its
// flotilla_event_loop_delay_seconds, whose window is the time since the previous scrape: the
// bench scrapes /metrics right before a row, opening the window, and right after it, reading
// it; so the window holds the row's warm-up too). Beside the row's latencies it says whether the
// hub's loop or the rest of the machine is the cost. Rows through two hubs give both (A, B).
//
// PostgreSQL: a private database through FLOTILLA_TEST_DATABASE_URL, dropped afterwards; NATS:
// FLOTILLA_TEST_NATS_URL (default nats://127.0.0.1:4222, JetStream on), under a private prefix.
// Goals (issue 5): p50 ≤ 0.3 ms and p99 ≤ 2 ms in-process on loopback; p99 ≤ 5 ms under telemetry.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent as HttpAgent } from 'node:http';
import { request } from 'node:http';
import { connect } from '@nats-io/transport-node';
import WebSocket from 'ws';
import { startHub } from './hub.js';
import { freePort } from './process.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    telemetry: { type: 'string', default: '20000' },
    only: { type: 'string', default: 'floor,ws,mqtt,nats,raw,load' },
  },
  strict: true,
});
const devices = Number(values.devices);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const telemetry = Number(values.telemetry);
const only = new Set(values.only.split(','));
if (!(devices >= 1) || !(rate > 0) || !(seconds > 0) || !(telemetry >= 0)) {
  console.error('bench:commands: --devices ≥ 1, --rate > 0 commands/s, --seconds > 0, --telemetry ≥ 0 messages/s');
  process.exit(2);
}

const { createTestDatabase, destroyFleetBuckets, testNatsPrefix, TEST_NATS_URL } =
  await import('../packages/hub/dist/testing.js');
const PASSWORD = 'bench-password-1';
const PREFIX = 'bench-cmd-';
const WARMUP_MS = 2000;
const HTTP_TIMEOUT_MS = 15_000;
const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 256 });

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A plain keep-alive POST (node:http: fetch's own overhead would be measured too). */
function post(base, path, token, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        timeout: HTTP_TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${path} timed out`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A hub as this bench runs it: devices without enrollment and without a per-device rate limit. */
function benchHub(args, env = {}) {
  const flags = ['--log-format', 'json', '--insecure-devices', '--device-rate', '0'];
  return startHub({ args: [...flags, ...args], env, password: PASSWORD });
}

/**
 * Forks `file` (beside this one) with `args`; resolves with its first IPC message, which it sends
 * once ready, and `stop()`, which asks it to exit and kills it if it has not in 10 s.
 */
async function forkReady(file, args, what) {
  const child = fork(new URL(file, import.meta.url), args, { stdio: 'inherit' });
  const ready = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
    child.once('message', resolve);
  });
  return {
    ready,
    async stop() {
      const stopped = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await Promise.race([stopped, delay(10_000)]);
      child.kill();
    },
  };
}

/** Forks the device process; resolves once every device is connected. */
function startDevices(args) {
  return forkReady('./commands-devices.js', args, 'the device process');
}

/** Forks a machine-floor server (bench/floor-server.js, `mode` http or ws); resolves with its `base` URL. */
async function startFloorServer(mode) {
  const server = await forkReady('./floor-server.js', ['--mode', mode], `the ${mode} floor server`);
  return { base: `http://127.0.0.1:${server.ready.port}`, stop: server.stop };
}

/** Waits until `base` lists every bench device online (paging through the device list). */
async function allOnline(base, token) {
  for (let i = 0; i < 600; i++) {
    let online = 0;
    let cursor;
    do {
      const query = `online=true&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(`${base}/api/v1/devices?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => undefined);
      const body = res?.ok ? await res.json() : { items: [], nextCursor: null };
      online += body.items.filter((d) => d.id.startsWith(PREFIX)).length;
      cursor = body.nextCursor;
    } while (cursor);
    if (online >= devices) return;
    await delay(200);
  }
  throw new Error('not every device came online within 120 s');
}

/**
 * Issues `send(k)` at `rate` per second for the warm-up and `seconds`; resolves with the sorted
 * latencies (ms from each command's intended time) of the measured window and the failures.
 */
async function openLoop(send) {
  const interval = 1000 / rate;
  const total = Math.round(((WARMUP_MS + seconds * 1000) / 1000) * rate);
  const warm = Math.round((WARMUP_MS / 1000) * rate);
  const latencies = [];
  const failures = new Map();
  const pending = [];
  const start = performance.now() + 50;
  for (let k = 0; k < total; k++) {
    const intended = start + k * interval;
    const wait = intended - performance.now();
    // Sleep to the schedule when early; when late, issue at once (never skip: a stall is measured).
    if (wait > 1) await delay(wait - 1);
    while (performance.now() < intended) {
      // spin the last millisecond: timers are coarser than what is measured
    }
    pending.push(
      send(k).then(
        () => {
          if (k >= warm) latencies.push(performance.now() - intended);
        },
        (err) => {
          const key = String(err.message ?? err)
            .replace(/\/devices\/[^/]+\//, '/devices/{id}/')
            .slice(0, 80);
          failures.set(key, (failures.get(key) ?? 0) + 1);
        },
      ),
    );
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), failures: Object.fromEntries(failures) };
}

function rest(hub) {
  return async (k) => {
    const id = `${PREFIX}${k % devices}`;
    const res = await post(hub.base, `/api/v1/devices/${id}/commands`, hub.token, {
      capability: 'hal.v1.led',
      command: 'set',
      args: { on: k % 2 === 0 },
      timeoutMs: 10_000,
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text.slice(0, 60)}`);
    if (!res.text.includes('"status":"succeeded"')) throw new Error(`not succeeded: ${res.text.slice(0, 60)}`);
  };
}

/**
 * The floor rows' request: a keep-alive GET of `url` that must answer 200 (on the hub,
 * /api/v1/ready: no device, no storage; on the floor server, its fixed JSON).
 */
function get(url) {
  return () =>
    new Promise((resolve, reject) => {
      const req = request(url, { agent: keepAlive, timeout: HTTP_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${new URL(url).pathname} timed out`)));
      req.on('error', reject);
      req.end();
    });
}

/**
 * One `ws` connection to the echo floor server; `send(k)` sends a small JSON frame carrying `k`
 * and resolves when the frame carrying `k` comes back (the counter matches echoes to sends, as a
 * command's id matches its result).
 */
async function wsEcho(base) {
  const ws = new WebSocket(base.replace(/^http/, 'ws'), { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiting = new Map();
  ws.on('message', (data) => {
    const { k } = JSON.parse(String(data));
    waiting.get(k)?.resolve();
    waiting.delete(k);
  });
  const failAll = (err) => {
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };
  ws.on('error', failAll);
  ws.on('close', () => failAll(new Error('the echo connection closed')));
  return {
    send: (k) =>
      new Promise((resolve, reject) => {
        waiting.set(k, { resolve, reject });
        ws.send(JSON.stringify({ k, capability: 'hal.v1.led', command: 'set', args: { on: k % 2 === 0 } }));
      }),
    close: () => ws.close(),
  };
}

/** The hub's /metrics text. */
async function scrape(hub) {
  const res = await fetch(`${hub.base}/metrics`, { headers: { authorization: `Bearer ${hub.token}` } });
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

/** Telemetry messages the hub had read from devices at a scrape (its own counter). */
function telemetryIn(metrics) {
  const line = metrics.match(/^flotilla_messages_total\{type="telemetry",direction="in"\} (\d+)/m);
  return line ? Number(line[1]) : 0;
}

/** The hub's event-loop delay p99 (ms) at a scrape: over the time since its previous scrape. */
function loopP99Ms(metrics) {
  const line = metrics.match(/^flotilla_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)$/m);
  return line ? Number(line[1]) * 1000 : NaN;
}

/**
 * `openLoop(send)` for a row whose work runs on `hubs`, between two scrapes of each: the first
 * opens the hubs' event-loop delay windows (the hub starts one at every scrape), the second reads
 * them, so `hubLoopP99Ms` covers the row, warm-up included. `metrics` holds both scrapes' texts.
 */
async function hubRow(hubs, send) {
  const before = await Promise.all(hubs.map(scrape));
  const started = performance.now();
  const result = await openLoop(send);
  const elapsedSeconds = (performance.now() - started) / 1000;
  const after = await Promise.all(hubs.map(scrape));
  return { ...result, elapsedSeconds, metrics: { before, after }, hubLoopP99Ms: after.map(loopP99Ms) };
}

function summary(name, result, note) {
  const { latencies, failures } = result;
  return {
    scenario: note ? `${name} (${note})` : name,
    commands: latencies.length,
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    p999Ms: Number(percentile(latencies, 99.9).toFixed(3)),
    maxMs: Number((latencies[latencies.length - 1] ?? NaN).toFixed(3)),
    hubLoopP99Ms: (result.hubLoopP99Ms ?? []).map((ms) => Number(ms.toFixed(3))),
    failures,
  };
}

const results = [];

/** Adds a row to the table and prints it at once (a long run shows progress). */
function record(name, result, note) {
  results.push(summary(name, result, note));
  console.log(JSON.stringify(results[results.length - 1]));
}

/** The machine floors: the same open loop against servers with no hub code (bench/floor-server.js). */
async function machineFloors() {
  const http = await startFloorServer('http');
  try {
    record('machine floor: empty node:http server in another process (no hub)', await openLoop(get(`${http.base}/`)));
  } finally {
    await http.stop();
  }
  const echo = await startFloorServer('ws');
  let client;
  try {
    client = await wsEcho(echo.base);
    record('machine floor: WebSocket echo in another process (no hub)', await openLoop(client.send));
  } finally {
    client?.close();
    await echo.stop();
  }
}

const common = ['--devices', String(devices), '--prefix', PREFIX];

async function inProcess(transport, load) {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-commands-'));
  const mqttPort = await freePort();
  const hub = await benchHub(['--data', dataDir, '--mqtt-port', String(mqttPort)]);
  let fleet;
  try {
    fleet = await startDevices([
      '--hub',
      hub.base,
      '--transport',
      transport,
      '--mqtt',
      `mqtt://127.0.0.1:${mqttPort}`,
      '--telemetry',
      String(load ? telemetry : 0),
      ...common,
    ]);
    await allOnline(hub.base, hub.token);
    if (transport === 'ws' && !load) {
      record('HTTP floor: GET /api/v1/ready on the same hub', await hubRow([hub], get(`${hub.base}/api/v1/ready`)));
    }
    const name = `${transport}, in-process bus${load ? `, ${telemetry} telemetry msgs/s offered` : ''}`;
    const result = await hubRow([hub], rest(hub));
    // Did the hub keep up? What it read per second while the commands ran, against what was offered.
    const read = telemetryIn(result.metrics.after[0]) - telemetryIn(result.metrics.before[0]);
    record(name, result, load ? `hub read ${Math.round(read / result.elapsedSeconds)} msgs/s` : undefined);
  } finally {
    await fleet?.stop();
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function overNats() {
  const database = await createTestDatabase();
  const prefix = testNatsPrefix();
  const natsArgs = ['--database-url', database.url, '--nats', TEST_NATS_URL, '--mqtt-port', 'off'];
  const env = { FLOTILLA_NATS_PREFIX: prefix };
  let a;
  let b;
  let fleet;
  let nc;
  try {
    a = await benchHub(natsArgs, env);
    b = await benchHub(natsArgs, env);
    const raw = `${prefix}.bench.raw`;
    fleet = await startDevices([
      '--hub',
      a.base,
      '--transport',
      'ws',
      '--nats',
      TEST_NATS_URL,
      '--raw',
      raw,
      ...common,
    ]);
    await allOnline(b.base, b.token);
    if (only.has('nats')) {
      record('ws, NATS relay (REST on hub B, device on hub A)', await hubRow([a, b], rest(b)));
    }
    nc = await connect({ servers: TEST_NATS_URL });
    if (only.has('nats')) {
      const viaNats = async (k) => {
        const reply = await nc.request(
          `${prefix}.flotilla.${PREFIX}${k % devices}.cmd.hal.v1.led`,
          JSON.stringify({ command: 'set', args: { on: k % 2 === 0 }, timeoutMs: 10_000 }),
          { timeout: HTTP_TIMEOUT_MS },
        );
        if (reply.json().status !== 'succeeded') throw new Error(`not succeeded: ${reply.string().slice(0, 60)}`);
      };
      record('ws, NATS request to the holding hub', await hubRow([a, b], viaNats));
    }
    if (only.has('raw')) {
      const payload = JSON.stringify({ command: 'set', args: { on: true } });
      record(
        'raw NATS request/reply (no hub)',
        await openLoop(() => nc.request(raw, payload, { timeout: HTTP_TIMEOUT_MS })),
      );
    }
  } finally {
    await nc?.close();
    await fleet?.stop();
    await b?.stop();
    await a?.stop();
    await destroyFleetBuckets(prefix).catch(() => undefined);
    await database.drop();
  }
}

if (only.has('floor')) await machineFloors();
if (only.has('ws')) await inProcess('ws', false);
if (only.has('mqtt')) await inProcess('mqtt', false);
if (only.has('nats') || only.has('raw')) await overNats();
if (only.has('load') && telemetry > 0) await inProcess('ws', true);

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(
  `\n${devices} devices, ${rate} commands/s for ${seconds} s after ${WARMUP_MS / 1000} s of warm-up; ${machine}; load average ${loadavg()[0].toFixed(1)}`,
);
console.log('| scenario | commands | p50 | p99 | p99.9 | max | hub loop p99 | failures |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const failed = Object.entries(r.failures)
    .map(([k, v]) => `${v}× ${k}`)
    .join('; ');
  const [one, other] = r.hubLoopP99Ms;
  const loop = other !== undefined ? `A ${one} ms, B ${other} ms` : one !== undefined ? `${one} ms` : '–';
  console.log(
    `| ${r.scenario} | ${r.commands} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.p999Ms} ms | ${r.maxMs} ms | ${loop} | ${failed || '0'} |`,
  );
}
keepAlive.destroy();
