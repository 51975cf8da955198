// bench:ingest — points per second persisted through the hub's TelemetryIngest (validation,
// bounded queue, batch writer, dedup, durable commit) on embedded SQLite and on PostgreSQL.
// Producers run in the same process and respect `pressure` (they wait while it is `full`), as
// transports will; the gateway and sockets are not part of this measurement yet.
//
//   npm run bench:ingest -- [--engine sqlite|postgres|both] [--devices 200] [--metrics 50]
//                           [--seconds 15] [--record]
//
// PostgreSQL: a private database is created through FLOTILLA_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
// --record writes the result into BENCHMARKS.md, with the machine it ran on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    devices: { type: 'string', default: '200' },
    metrics: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    record: { type: 'boolean', default: false },
  },
  strict: true,
});
const devices = Number(values.devices);
const metrics = Number(values.metrics);
const seconds = Number(values.seconds);
const engines = values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine];
if (
  !Number.isInteger(devices) ||
  devices < 1 ||
  !Number.isInteger(metrics) ||
  metrics < 1 ||
  metrics > 1024 ||
  !(seconds > 0) ||
  !engines.every((e) => e === 'sqlite' || e === 'postgres')
) {
  console.error('bench:ingest: --devices ≥ 1, --metrics 1..1024, --seconds > 0, --engine sqlite|postgres|both');
  process.exit(2);
}

const { openStorage } = await import('../packages/hub/dist/storage/open.js');
const { createTestDatabase } = await import('../packages/hub/dist/storage/testing.js');
const { TelemetryIngest } = await import('../packages/hub/dist/telemetry/ingest.js');
const { telemetryMetrics } = await import('../packages/hub/dist/telemetry/metrics.js');
const { MetricsRegistry } = await import('../packages/hub/dist/metrics.js');

const names = Array.from({ length: metrics }, (_, i) => `m${i}`);

async function run(engine) {
  let dataDir;
  let database;
  if (engine === 'sqlite') dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-ingest-'));
  else database = await createTestDatabase();
  const storage = await openStorage(engine === 'sqlite' ? { dataDir } : { databaseUrl: database.url });
  try {
    const instruments = telemetryMetrics(new MetricsRegistry());
    const ingest = new TelemetryIngest({ store: storage.telemetry, metrics: instruments });
    const seqs = new Array(devices).fill(0);
    const pending = new Set();
    let written = 0;
    let refused = 0;
    let duplicates = 0;
    let calls = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    // Each round: every device sends one message of `metrics` points, numbered and timestamped now.
    while (performance.now() < deadline) {
      if (ingest.pressure === 'full') await once(ingest, 'pressure');
      const now = Date.now();
      for (let d = 0; d < devices; d++) {
        const values = {};
        for (let m = 0; m < metrics; m++) values[names[m]] = (d * 31 + m + seqs[d]) % 1000;
        const call = ingest.submit(`bench-${d}`, [{ seq: seqs[d]++, ts: now, metrics: values }]).then((r) => {
          written += r.written;
          refused += r.refused.length;
          duplicates += r.duplicates.length;
          pending.delete(call);
        });
        pending.add(call);
        calls++;
      }
      // Let the writer and the event loop run between rounds, as sockets would.
      await nextTurn();
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await ingest.close();
    const batches = (await instruments.batchSize.get()).values;
    const writes = (await instruments.writeSeconds.get()).values;
    const batchCount = batches.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const batchSum = batches.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const writeSum = writes.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;

    // Zero loss: every message of device 0 and 1 is there, once.
    for (const device of ['bench-0', `bench-${devices - 1}`]) {
      const rows = await storage.telemetry.aggregate({
        devices: [device],
        metric: 'm0',
        from: 0,
        to: 8_000_000_000_000,
        bucketMs: 8_000_000_000_000,
        source: 'raw',
      });
      const stored = rows.reduce((sum, row) => sum + row.count, 0);
      const sent = seqs[Number(device.slice(6))];
      if (stored !== sent) throw new Error(`${device}: ${sent} messages sent, ${stored} stored`);
    }
    return {
      engine,
      devices,
      metricsPerMessage: metrics,
      messages: calls,
      pointsWritten: written,
      refused,
      duplicates,
      seconds: Number(elapsed.toFixed(2)),
      pointsPerSecond: Math.round(written / elapsed),
      batches: batchCount,
      meanBatchPoints: Math.round(batchSum / Math.max(1, batchCount)),
      meanWriteMs: Number(((writeSum / Math.max(1, batchCount)) * 1000).toFixed(1)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      rssMb: Number((process.memoryUsage().rss / 2 ** 20).toFixed(0)),
    };
  } finally {
    await storage.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}

const results = [];
for (const engine of engines) {
  const result = await run(engine);
  console.log(JSON.stringify(result, null, 2));
  results.push(result);
}

if (values.record) {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const section = [
    '<!-- bench:ingest:start -->',
    `Machine: ${machine}. Producers and ingest in one process; PostgreSQL on the same machine. ` +
      `Load average at the end (1 min, all processes): ${loadavg()[0].toFixed(1)}.`,
    '',
    '| engine | devices × points per message | points written | seconds | points/s | batches | mean batch | mean write | process CPU s | RSS |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.engine} | ${r.devices} × ${r.metricsPerMessage} | ${r.pointsWritten} | ${r.seconds} | ${r.pointsPerSecond} | ${r.batches} | ${r.meanBatchPoints} points | ${r.meanWriteMs} ms | ${r.cpuSeconds} | ${r.rssMb} MB |`,
    ),
    '<!-- bench:ingest:end -->',
  ].join('\n');
  const file = 'BENCHMARKS.md';
  const doc = readFileSync(file, 'utf8');
  writeFileSync(file, doc.replace(/<!-- bench:ingest:start -->[\s\S]*<!-- bench:ingest:end -->/, section));
  console.log(`recorded in ${file}`);
}
