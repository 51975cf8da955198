// bench:ingest — telemetry points per second persisted through the real gateway. A hub runs in
// one process (`flotilla hub`, embedded SQLite or PostgreSQL); N devices in another
// (bench/ingest-devices.js) speak the agent protocol over /ws/agent, each sending `rate`
// messages of `metrics` points per second. The bench reports:
// - points/s persisted during the measured window (the hub's own points-written counter);
// - ingest-to-queryable latency p50/p99: a probe device sends one point at a time and the bench
//   polls the REST API every few ms until the point is readable;
// - hub CPU (share of one core) and RSS (during and peak);
// - zero loss: after the devices stop and the queue drains, the rows stored per device are
//   counted in the database and compared with what each device sent (and refusals, if any).
//
//   npm run bench:ingest -- [--engine sqlite|postgres|both] [--devices 1000] [--metrics 50]
//                           [--rate 4] [--seconds 20] [--no-numbered] [--cpu-prof DIR] [--record]
//
// Devices number their telemetry (`payload.seq`, the agent's durable numbering) and the bench
// also reports the time from send to the hub's ack (sent after the durable write, so acked means
// queryable), sampled on every 10th message; --no-numbered sends unnumbered telemetry (no dedup,
// no acks), as older agents do.
//
// PostgreSQL: a private database is created through FLOTILLA_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
// --cpu-prof DIR runs the hub with node --cpu-prof and prints the functions that took most time.
// --record writes the result into BENCHMARKS.md, with the machine it ran on.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import WebSocket from 'ws';
import { startHub } from './hub.js';
import { cpuSeconds, memoryMb } from './process.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    devices: { type: 'string', default: '1000' },
    metrics: { type: 'string', default: '50' },
    rate: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    numbered: { type: 'boolean', default: true },
    'cpu-prof': { type: 'string' },
    record: { type: 'boolean', default: false },
  },
  strict: true,
  allowNegative: true,
});
const devices = Number(values.devices);
const metrics = Number(values.metrics);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const engines = values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine];
if (
  !Number.isInteger(devices) ||
  devices < 1 ||
  !Number.isInteger(metrics) ||
  metrics < 1 ||
  metrics > 1024 ||
  !(rate > 0 && rate <= 100) ||
  !(seconds > 0) ||
  !engines.every((e) => e === 'sqlite' || e === 'postgres')
) {
  console.error(
    'bench:ingest: --devices ≥ 1, --metrics 1..1024, --rate 0..100 messages/s per device, --seconds > 0, --engine sqlite|postgres|both',
  );
  process.exit(2);
}

const { createTestDatabase } = await import('../packages/hub/dist/storage/testing.js');

const PREFIX = 'bench-';
/** Every HTTP call the bench makes has a time limit: a stalled one fails the run with its name instead of hanging it. */
const HTTP_TIMEOUT_MS = 15_000;

/** With BENCH_DEBUG set, each step of a run is printed to stderr, so a slow step names itself. */
function phase(engine, name) {
  if (process.env.BENCH_DEBUG) console.error(`[bench ${engine}] ${new Date().toISOString()} ${name}`);
}
const PROBE = 'probe-0';
const PASSWORD = 'bench-password-1';

async function scrape(base) {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })).text();
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('flotilla_telemetry')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  const sum = (prefix) => [...out].filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  return {
    written: out.get('flotilla_telemetry_points_written_total') ?? 0,
    queued: out.get('flotilla_telemetry_queue_points') ?? 0,
    refused: sum('flotilla_telemetry_refused_total'),
    batches: out.get('flotilla_telemetry_batch_points_count') ?? 0,
    batchPoints: out.get('flotilla_telemetry_batch_points_sum') ?? 0,
    writeSeconds: out.get('flotilla_telemetry_write_seconds_sum') ?? 0,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Points stored per device, counted in the database itself (not through the hub): rows of
 * `telemetry_values` on PostgreSQL; on SQLite, points packed in `telemetry_frames` rows, 12 bytes
 * each (packages/hub/src/storage/telemetry-frames.ts).
 */
async function countStored(engine, where) {
  const text =
    engine === 'sqlite'
      ? `select device, sum(length(data)) / 12 as n from telemetry_frames where device like '${PREFIX}%' group by device`
      : 'select s.device as device, count(*) as n from telemetry_values v join telemetry_series s on s.id = v.series_id ' +
        `where s.device like '${PREFIX}%' group by s.device`;
  let rows;
  if (engine === 'sqlite') {
    const db = new DatabaseSync(where, { readOnly: true });
    try {
      rows = db.prepare(text).all();
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: where });
    await client.connect();
    try {
      rows = (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }
  return new Map(rows.map((r) => [r.device, Number(r.n)]));
}

/** A device of its own, connected before the load starts, that sends one point at a time. */
async function openProbe(base) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/agent`);
  await once(ws, 'open');
  ws.send(JSON.stringify({ v: 1, type: 'hello', device: PROBE, seq: 0, ts: Date.now(), payload: {} }));
  await new Promise((resolve) => ws.once('message', resolve));
  return ws;
}

/** Sends a probe point, polls the API every 2 ms until it is readable; again, until `stopAt`. */
async function probeLatency(ws, base, token, stopAt) {
  const samples = [];
  let timeouts = 0;
  for (let seq = 1; performance.now() < stopAt; seq++) {
    const ts = Date.now();
    const sentAt = performance.now();
    ws.send(JSON.stringify({ v: 1, type: 'telemetry', device: PROBE, seq, ts, payload: { metrics: { probe: seq } } }));
    const url = `${base}/api/v1/devices/${PROBE}/telemetry?metric=probe&from=${ts}&to=${ts + 1}`;
    for (;;) {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      }).catch(() => undefined);
      const body = response ? await response.json() : {};
      if (body.points?.some((p) => p.value === seq)) {
        samples.push(performance.now() - sentAt);
        break;
      }
      if (performance.now() - sentAt > 30_000 || performance.now() > stopAt + 5_000) {
        timeouts++;
        break;
      }
      await delay(2);
    }
    await delay(50);
  }
  ws.close();
  return { samples: samples.sort((a, b) => a - b), timeouts };
}

function summariseProfile(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

async function run(engine) {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-ingest-'));
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  const profDir = values['cpu-prof'] ? join(values['cpu-prof'], engine) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  let hub;
  let load;
  try {
    hub = await startHub({
      name: `the ${engine} hub`,
      nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
      args: [
        ...['--data', dataDir, '--mqtt-port', 'off', '--log-format', 'json'],
        ...['--insecure-devices', '--metrics-public'],
        ...(database ? ['--database-url', database.url] : []),
      ],
      password: PASSWORD,
    });
    const { base, token } = hub;

    const probe = await openProbe(base);
    load = fork(new URL('./ingest-devices.js', import.meta.url), [], { stdio: 'inherit' });
    // The device process's answer to a step; its exit before answering fails the run, never hangs it.
    const loadMessage = (key) =>
      new Promise((resolve, reject) => {
        const done = () => {
          load.off('message', on);
          load.off('exit', exit);
        };
        const on = (m) => {
          if (m.failed) {
            done();
            reject(new Error(m.failed));
          } else if (m[key] !== undefined) {
            done();
            resolve(m[key]);
          }
        };
        const exit = (code, signal) => {
          done();
          reject(new Error(`the device process exited (${signal ?? code}) before sending ${key}`));
        };
        load.on('message', on);
        load.on('exit', exit);
      });
    load.send({
      start: { url: base.replace('http', 'ws'), devices, metrics, rate, prefix: PREFIX, numbered: values.numbered },
    });
    await loadMessage('connected');
    phase(engine, 'devices connected');

    // A few seconds to reach a steady state, then the measured window.
    await delay(3000);
    const before = await scrape(base);
    const cpu0 = cpuSeconds(hub.pid);
    const loadCpu0 = cpuSeconds(load.pid);
    const t0 = performance.now();
    const probing = probeLatency(probe, base, token, t0 + seconds * 1000);
    let maxQueued = 0;
    let rssSum = 0;
    let rssSamples = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await delay(500);
      maxQueued = Math.max(maxQueued, (await scrape(base)).queued);
      rssSum += memoryMb(hub.pid).rss;
      rssSamples++;
    }
    const after = await scrape(base);
    const window = (performance.now() - t0) / 1000;
    const hubCpu = cpuSeconds(hub.pid) - cpu0;
    const loadCpu = cpuSeconds(load.pid) - loadCpu0;
    phase(engine, 'window over');
    const latency = await probing;
    phase(engine, 'probe done; stopping the devices');

    const stopped = loadMessage('sent');
    load.send({ stop: true });
    const sent = await stopped;
    phase(engine, 'devices stopped; draining');
    // Drain: the queue empties and the written counter stops moving for a second.
    let last = -1;
    let still = 0;
    const drainStart = performance.now();
    for (let i = 0; i < 1200; i++) {
      const now = await scrape(base);
      if (process.env.BENCH_DEBUG) console.error('drain', now, sent.points);
      still = now.queued === 0 && now.written === last ? still + 1 : 0;
      if (still >= 4) break;
      last = now.written;
      await delay(250);
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    phase(engine, 'drained; counting the rows stored');
    const final = await scrape(base);
    const memory = memoryMb(hub.pid);
    const stored = await countStored(engine, database ? database.url : join(dataDir, 'flotilla.db'));
    phase(engine, 'rows counted');
    let lost = 0;
    let extra = 0;
    sent.perDevice.forEach((points, d) => {
      const rows = stored.get(`${PREFIX}${d}`) ?? 0;
      if (rows < points) lost += points - rows;
      if (rows > points) extra += rows - points;
    });
    const batches = after.batches - before.batches;
    return {
      engine,
      devices,
      metricsPerMessage: metrics,
      ratePerDevice: rate,
      offeredPointsPerSecond: devices * metrics * rate,
      seconds: Number(window.toFixed(1)),
      pointsPerSecond: Math.round((after.written - before.written) / window),
      latencyP50Ms: Number(percentile(latency.samples, 50).toFixed(1)),
      latencyP99Ms: Number(percentile(latency.samples, 99).toFixed(1)),
      latencySamples: latency.samples.length,
      latencyTimeouts: latency.timeouts,
      ...(values.numbered && {
        ackP50Ms: Number(
          percentile(
            sent.ackMs.sort((a, b) => a - b),
            50,
          ).toFixed(1),
        ),
        ackP99Ms: Number(percentile(sent.ackMs, 99).toFixed(1)),
        ackSamples: sent.ackMs.length,
        unackedSamples: sent.unacked,
      }),
      hubCpuPercent: Math.round((100 * hubCpu) / window),
      devicesCpuPercent: Math.round((100 * loadCpu) / window),
      hubRssMb: Math.round(rssSum / Math.max(1, rssSamples)),
      hubPeakRssMb: Math.round(memory.peak),
      maxQueuedPoints: maxQueued,
      batches,
      meanBatchPoints: Math.round((after.batchPoints - before.batchPoints) / Math.max(1, batches)),
      meanWriteMs: Number(((1000 * (after.writeSeconds - before.writeSeconds)) / Math.max(1, batches)).toFixed(1)),
      drainSeconds: Number(drainSeconds.toFixed(1)),
      hubWrittenTotal: final.written,
      sentPoints: sent.points,
      deferredMessages: sent.deferred,
      storedPoints: [...stored.values()].reduce((a, b) => a + b, 0),
      refused: final.refused,
      lost,
      extra,
      hubErrors: sent.errorCount,
      firstErrors: sent.errors,
      closedByHub: sent.closes,
      firstCloses: sent.firstCloses,
    };
  } finally {
    phase(engine, 'stopping the hub');
    load?.kill();
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}

const results = [];
for (const engine of engines) {
  const result = await run(engine);
  console.log(JSON.stringify(result, null, 2));
  if (values['cpu-prof']) {
    console.log(`hub CPU profile (${engine}), self time:`);
    for (const line of summariseProfile(join(values['cpu-prof'], engine))) console.log(`  ${line}`);
  }
  results.push(result);
}

if (values.record) {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const section = [
    '<!-- bench:ingest:start -->',
    `Machine: ${machine}. Hub, devices and PostgreSQL in separate processes on this machine. ` +
      `Load average at the end (1 min, all processes): ${loadavg()[0].toFixed(1)}.`,
    '',
    '| engine | devices × msg/s × points | offered points/s | persisted points/s | ingest → queryable p50 / p99 | ack p50 / p99 | hub CPU | devices CPU | hub RSS (peak) | mean batch | mean write | sent | stored | lost |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.engine} | ${r.devices} × ${r.ratePerDevice} × ${r.metricsPerMessage} | ${r.offeredPointsPerSecond} | ${r.pointsPerSecond} | ${r.latencyP50Ms} / ${r.latencyP99Ms} ms | ${r.ackP50Ms === undefined ? '—' : `${r.ackP50Ms} / ${r.ackP99Ms} ms`} | ${r.hubCpuPercent}% | ${r.devicesCpuPercent}% | ${r.hubRssMb} MB (${r.hubPeakRssMb} MB) | ${r.meanBatchPoints} points | ${r.meanWriteMs} ms | ${r.sentPoints} | ${r.storedPoints} | ${r.lost} |`,
    ),
    '<!-- bench:ingest:end -->',
  ].join('\n');
  const file = 'BENCHMARKS.md';
  const doc = readFileSync(file, 'utf8');
  writeFileSync(file, doc.replace(/<!-- bench:ingest:start -->[\s\S]*<!-- bench:ingest:end -->/, section));
  console.log(`recorded in ${file}`);
}
