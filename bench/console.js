// bench:console — the web console's fleet page with 10,000 devices in headless Chromium, while
// device updates stream to it. Reports:
// - initial JavaScript: the gzipped size of the scripts the first page (sign-in) loads, and of
//   the fleet page's own chunks loaded after sign-in;
// - time from sign-in until the page shows every device;
// - frame times while updates stream (requestAnimationFrame intervals: p50, p95, p99, max, and
//   frames over 50 ms), and the browser's long tasks;
// - input latency: typing in the search box (each key re-filters 10,000 devices) and scrolling
//   the table, from the event to the next frame.
//
//   npm run bench:console -- [--count 10000] [--updates 200] [--seconds 10] [--record]
//
// Updates are device relabels through the API (each one a `flotilla.<id>.status` message to the
// page), `--updates` per second. Needs Debian's Chromium (/usr/bin/chromium, or FLOTILLA_CHROMIUM).
// --record writes the result into BENCHMARKS.md, with the machine it ran on: only on a quiet machine.
// The functions given to page.evaluate run in the browser, with its globals:
/* global document, Event, HTMLInputElement, PerformanceObserver, requestAnimationFrame */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { startHub } from './hub.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    updates: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    record: { type: 'boolean', default: false },
  },
  strict: true,
});
const count = Number(values.count);
const updatesPerSecond = Number(values.updates);
const seconds = Number(values.seconds);
if (!Number.isInteger(count) || count < 1 || !(updatesPerSecond >= 0) || !(seconds > 0)) {
  console.error('bench:console: --count must be a positive integer, --updates ≥ 0, --seconds > 0');
  process.exit(2);
}
// The browser tests' launcher (Debian's Chromium with the flags a closed network needs).
const { CHROMIUM, launchBrowser } = await import('../packages/console/dist/node/testing/browser.js');
try {
  statSync(CHROMIUM);
} catch {
  console.error(`bench:console: no Chromium at ${CHROMIUM} (apt-get install chromium, or set FLOTILLA_CHROMIUM)`);
  process.exit(2);
}

const { startSimulation } = await import('@flotilla/sim');
const { FlotillaClient } = await import('@flotilla/sdk');

const ASSETS = 'packages/console/dist/web/assets';
const PASSWORD = 'bench-console-password';
const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (n, digits = 1) => Number(n.toFixed(digits));
/** Gzipped size of a served bundle, as the build wrote it beside the bundle. */
const gzSize = (url) => statSync(join(ASSETS, `${new URL(url).pathname.split('/').pop()}.gz`)).size;

const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-console-'));
let hub;
let sim;
let browser;
let churn;
try {
  // Port 1883 may belong to the machine's Mosquitto; the simulated devices need no enrollment here.
  hub = await startHub({ args: ['--data', dataDir, '--mqtt-port', 'off', '--insecure-devices'], password: PASSWORD });
  const { base } = hub;
  const admin = new FlotillaClient({ baseUrl: base, token: hub.token });
  // Idle devices: the page's load is the registry and its status messages, not telemetry.
  sim = await startSimulation({
    hubUrl: base,
    count,
    kind: 'mixed',
    rate: 0,
    idPrefix: 'bench',
    seed: 1,
    concurrency: 250,
  });
  const t0 = performance.now();
  for (;;) {
    const page = await admin.listDevices({ online: true, limit: 1000 });
    if (page.items.length === 1000 || page.items.length === count) {
      // Counting every page is the slow part: check the total once the first page is full.
      let online = 0;
      for await (const d of admin.iterateDevices({ online: true, limit: 1000 })) online += d ? 1 : 0;
      if (online >= count) break;
    }
    if (performance.now() - t0 > 300_000) throw new Error(`not all ${count} devices online after 300 s`);
    await delay(500);
  }

  ({ browser } = await launchBrowser());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const scripts = new Set();
  page.on('response', (response) => {
    if (/\/assets\/.*\.js$/.test(response.url())) scripts.add(response.url());
  });
  await page.goto(base);
  await page.getByLabel('Username').waitFor();
  const initial = [...scripts];
  const initialGzKb = initial.reduce((sum, url) => sum + gzSize(url), 0) / 1024;
  scripts.clear();

  const signedIn = performance.now();
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByTestId('count-total')
    .filter({ hasText: new RegExp(`^${count.toLocaleString('en-US').replace(/,/g, ',?')}$|^${count}$`) })
    .waitFor({ timeout: 120_000 });
  const fleetShownSeconds = (performance.now() - signedIn) / 1000;
  const fleetGzKb = [...scripts].reduce((sum, url) => sum + gzSize(url), 0) / 1024;

  // Stream relabels: each is a DeviceUpdated event and a status message to the page.
  let sent = 0;
  let stop = false;
  const ids = sim.devices;
  churn = (async () => {
    const started = performance.now();
    const inflight = new Set();
    while (!stop) {
      const due = Math.floor(((performance.now() - started) / 1000) * updatesPerSecond);
      while (sent < due && inflight.size < 64) {
        const id = ids[(sent * 7919) % ids.length];
        const p = admin.updateDevice(id, { labels: { churn: String(sent % 1000) } }).finally(() => inflight.delete(p));
        inflight.add(p);
        sent++;
      }
      await delay(5);
    }
    await Promise.allSettled([...inflight]);
  })();
  await delay(1000);

  // Frame intervals and long tasks while the updates stream, measured in the page.
  const frames = await page.evaluate(async (ms) => {
    const longTasks = [];
    const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)));
    try {
      observer.observe({ type: 'longtask', buffered: false });
    } catch {
      // no long-task timing in this browser
    }
    const intervals = [];
    await new Promise((resolve) => {
      let last = performance.now();
      const end = last + ms;
      const tick = (now) => {
        intervals.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    observer.disconnect();
    return { intervals, longTasks };
  }, seconds * 1000);

  // Input: each key in the search box filters every device; each scroll step renders new rows.
  const input = await page.evaluate(async () => {
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    const search = document.querySelector('input[type="search"]');
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const typing = [];
    for (const text of [
      'b',
      'be',
      'ben',
      'benc',
      'bench',
      'bench-',
      'bench-0',
      'bench-00',
      'bench-0',
      'bench',
      'ben',
      'b',
      '',
    ]) {
      const t0 = performance.now();
      setter.call(search, text);
      search.dispatchEvent(new Event('input', { bubbles: true }));
      await nextFrame();
      typing.push(performance.now() - t0);
    }
    const body = document.querySelector('.vtable-body');
    const scrolling = [];
    for (let i = 1; i <= 20; i++) {
      const t0 = performance.now();
      body.scrollTop = i * 36 * 250;
      body.dispatchEvent(new Event('scroll'));
      await nextFrame();
      scrolling.push(performance.now() - t0);
    }
    return { typing, scrolling };
  });
  stop = true;
  await churn;
  const streamed = sent;

  const intervals = frames.intervals.slice(1).sort((a, b) => a - b);
  const typing = input.typing.sort((a, b) => a - b);
  const scrolling = input.scrolling.sort((a, b) => a - b);
  const result = {
    devices: count,
    updatesPerSecond,
    updatesSent: streamed,
    initialJsGzKb: round(initialGzKb),
    initialScripts: initial.length,
    fleetPageJsGzKb: round(fleetGzKb),
    fleetShownSeconds: round(fleetShownSeconds, 2),
    frames: intervals.length,
    frameP50Ms: round(percentile(intervals, 50)),
    frameP95Ms: round(percentile(intervals, 95)),
    frameP99Ms: round(percentile(intervals, 99)),
    frameMaxMs: round(intervals.at(-1) ?? NaN),
    framesOver50Ms: intervals.filter((ms) => ms > 50).length,
    longTasks: frames.longTasks.length,
    longTaskMs: round(frames.longTasks.reduce((a, b) => a + b, 0)),
    typingP50Ms: round(percentile(typing, 50)),
    typingMaxMs: round(typing.at(-1) ?? NaN),
    scrollP50Ms: round(percentile(scrolling, 50)),
    scrollMaxMs: round(scrolling.at(-1) ?? NaN),
  };
  console.log(JSON.stringify(result, null, 2));

  if (values.record) {
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Chromium headless, ${new Date().toISOString().slice(0, 10)}`;
    const r = result;
    const section = [
      '<!-- bench:console:start -->',
      `Machine: ${machine}. Hub, simulated devices and browser on one machine; storage: embedded SQLite.`,
      '',
      '| devices | updates/s | initial JS (gzip) | fleet page JS (gzip) | all shown after | frame p50 / p95 / p99 / max | frames > 50 ms | long tasks | typing p50 / max | scroll p50 / max |',
      '|---|---|---|---|---|---|---|---|---|---|',
      `| ${r.devices} | ${r.updatesPerSecond} | ${r.initialJsGzKb} KB (${r.initialScripts} files) | ${r.fleetPageJsGzKb} KB | ${r.fleetShownSeconds} s | ${r.frameP50Ms} / ${r.frameP95Ms} / ${r.frameP99Ms} / ${r.frameMaxMs} ms | ${r.framesOver50Ms} of ${r.frames} | ${r.longTasks} (${r.longTaskMs} ms) | ${r.typingP50Ms} / ${r.typingMaxMs} ms | ${r.scrollP50Ms} / ${r.scrollMaxMs} ms |`,
      '<!-- bench:console:end -->',
    ].join('\n');
    const file = 'BENCHMARKS.md';
    const doc = readFileSync(file, 'utf8');
    writeFileSync(file, doc.replace(/<!-- bench:console:start -->[\s\S]*<!-- bench:console:end -->/, section));
    console.log(`recorded in ${file}`);
  }
} finally {
  await browser?.close().catch(() => undefined);
  await sim?.stop();
  await hub?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
