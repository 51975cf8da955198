// bench:connect — connects N devices (default 5,000) built on the agent's own code to a hub
// running in another process, and reports: time until all are online (as the hub's own
// /metrics says), hub RSS per connected device, heartbeat round trip p50/p99.
//
//   npm run bench:connect -- [--count 5000] [--heartbeat-interval 2000] [--rtt-seconds 20] [--record]
//
// --record writes the result into BENCHMARKS.md, with the machine it ran on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { startHub } from './hub.js';
import { memoryMb } from './process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '5000' },
    'heartbeat-interval': { type: 'string', default: '2000' },
    'rtt-seconds': { type: 'string', default: '20' },
    record: { type: 'boolean', default: false },
  },
  strict: true,
});
const count = Number(values.count);
const heartbeatMs = Number(values['heartbeat-interval']);
const rttSeconds = Number(values['rtt-seconds']);
if (
  !Number.isInteger(count) ||
  count < 1 ||
  !Number.isInteger(heartbeatMs) ||
  heartbeatMs < 1000 ||
  !(rttSeconds > 0)
) {
  console.error('bench:connect: --count must be a positive integer, --heartbeat-interval ≥ 1000 ms, --rtt-seconds > 0');
  process.exit(2);
}

const { startSimulation } = await import('@flotilla/sim');

async function metric(base, name, labels) {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(15_000) });
  // A refused scrape (401: a hub without --metrics-public) must fail the run, not read as 0 online for 300 s.
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{${labels}}`) || (labels === '' && line.startsWith(`${name} `)))
      return Number(line.split(' ').pop());
  }
  return 0;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
let hub;
let sim;
try {
  hub = await startHub({
    args: [
      ...['--data', dataDir, '--heartbeat-interval', String(heartbeatMs)],
      // This bench measures /ws/agent; port 1883 may belong to the machine's Mosquitto.
      ...['--mqtt-port', 'off'],
      // Connection cost without enrollment: the simulated devices present no credentials.
      '--insecure-devices',
      // The bench reads the online count from /metrics, which otherwise needs a token.
      '--metrics-public',
    ],
  });
  const { base } = hub;
  await delay(1000);
  const rssBefore = memoryMb(hub.pid).rss * 1024;

  const rtts = [];
  let sampling = false;
  const t0 = performance.now();
  // Idle devices (rate 0: connections and heartbeats only), as the memory goal is stated.
  sim = await startSimulation({
    hubUrl: base,
    count,
    kind: 'mcu',
    rate: 0,
    idPrefix: 'bench',
    seed: 1,
    concurrency: 250,
    onRttSample: (ms) => sampling && rtts.push(ms),
  });
  let online = 0;
  for (;;) {
    online = await metric(base, 'flotilla_devices', 'state="online"');
    if (online >= count) break;
    if (performance.now() - t0 > 300_000) throw new Error(`only ${online}/${count} online after 300 s`);
    await delay(100);
  }
  const connectSeconds = (performance.now() - t0) / 1000;

  // Idle for a few heartbeats so the hub settles, then measure memory and round trips.
  sampling = true;
  await delay(rttSeconds * 1000);
  sampling = false;
  const rssAfter = memoryMb(hub.pid).rss * 1024;
  rtts.sort((a, b) => a - b);
  const perDeviceKb = (rssAfter - rssBefore) / count;

  const result = {
    devices: count,
    connectSeconds: Number(connectSeconds.toFixed(2)),
    hubRssBeforeMb: Number((rssBefore / 1024).toFixed(1)),
    hubRssAfterMb: Number((rssAfter / 1024).toFixed(1)),
    hubKbPerDevice: Number(perDeviceKb.toFixed(1)),
    heartbeatIntervalMs: heartbeatMs,
    rttSamples: rtts.length,
    rttP50Ms: percentile(rtts, 50),
    rttP99Ms: percentile(rtts, 99),
  };
  console.log(JSON.stringify(result, null, 2));

  if (values.record) {
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
    const section = [
      '<!-- bench:connect:start -->',
      `Machine: ${machine}. Hub and devices in two processes on one machine; storage: embedded SQLite.`,
      '',
      '| devices | all online after | hub RSS before → after | hub memory per device | heartbeat interval | RTT p50 | RTT p99 | RTT samples |',
      '|---|---|---|---|---|---|---|---|',
      `| ${count} | ${result.connectSeconds} s | ${result.hubRssBeforeMb} → ${result.hubRssAfterMb} MB | ${result.hubKbPerDevice} KB | ${heartbeatMs} ms | ${result.rttP50Ms} ms | ${result.rttP99Ms} ms | ${rtts.length} |`,
      '<!-- bench:connect:end -->',
    ].join('\n');
    const file = 'BENCHMARKS.md';
    const doc = readFileSync(file, 'utf8');
    writeFileSync(file, doc.replace(/<!-- bench:connect:start -->[\s\S]*<!-- bench:connect:end -->/, section));
    console.log(`recorded in ${file}`);
  }
} finally {
  await sim?.stop();
  await hub?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
