// The device side of bench:ingest, in its own process (forked by bench/ingest.js) so the hub's
// CPU is its own: N WebSocket connections to /ws/agent speaking the agent protocol (hello, then
// telemetry frames), each sending `rate` messages of `metrics` points per second, spread evenly
// over time. A connection whose socket buffer is full skips its turn (the hub is not reading
// fast enough): those messages are never sent, so they count as "deferred", not as loss.
//
// Parent → child: {start: {url, devices, metrics, rate, prefix}} then {stop: true}.
// Child → parent: {connected}, then {sent: {messages, points, deferred, perDevice}} after stop.
import WebSocket from 'ws';

// About 40 messages: a device whose hub stops reading holds back, as an agent would.
const MAX_BUFFERED = 64 * 1024;
const TICK_MS = 5;

let config;
let sockets = [];
let sent = [];
let messages = 0;
let points = 0;
let deferred = 0;
let timer;

function frame(device, seq, ts, values) {
  return `{"v":1,"type":"telemetry","device":"${device}","seq":${seq},"ts":${ts},"payload":{"metrics":{${values}}}}`;
}

async function connect(id) {
  const ws = new WebSocket(`${config.url}/ws/agent`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const welcomed = new Promise((resolve, reject) => {
    ws.on('message', function first(data) {
      const message = JSON.parse(String(data));
      if (message.type === 'welcome') {
        ws.off('message', first);
        resolve();
      } else if (message.type === 'error') reject(new Error(`${id}: ${message.payload.message}`));
    });
  });
  ws.send(JSON.stringify({ v: 1, type: 'hello', device: id, seq: 0, ts: Date.now(), payload: { type: 'bench' } }));
  await welcomed;
  // Anything the hub says from now on (acks, errors) is counted, not parsed on the hot path.
  ws.on('close', (code, reason) => {
    if (!stopping) closes.push(`${id}: ${code} ${String(reason)}`);
  });
  ws.on('message', (data) => {
    const text = String(data);
    if (text.includes('"type":"error"')) errors.push(text.slice(0, 300));
  });
  return ws;
}
const errors = [];
const closes = [];
let stopping = false;

async function start(options) {
  config = options;
  const ids = Array.from({ length: config.devices }, (_, i) => `${config.prefix}${i}`);
  // 100 handshakes in flight: a connect storm is bench:connect's subject, not this one's.
  for (let i = 0; i < ids.length; i += 100) sockets.push(...(await Promise.all(ids.slice(i, i + 100).map(connect))));
  sent = new Array(ids.length).fill(0);
  process.send({ connected: sockets.length });
  const names = Array.from({ length: config.metrics }, (_, m) => `"m${m}":`);
  const t0 = performance.now();
  let due = 0;
  let next = 0;
  const seqs = new Array(ids.length).fill(1);
  timer = setInterval(() => {
    const target = Math.floor(((performance.now() - t0) / 1000) * config.rate * ids.length);
    const ts = Date.now();
    for (; due < target; due++) {
      const d = next;
      next = (next + 1) % ids.length;
      const ws = sockets[d];
      if (ws.bufferedAmount > MAX_BUFFERED || ws.readyState !== WebSocket.OPEN) {
        deferred++;
        continue;
      }
      const seq = seqs[d]++;
      let values = '';
      for (let m = 0; m < names.length; m++)
        values += `${m ? ',' : ''}${names[m]}${((seq * 7 + m * 13 + d) % 1000) / 10}`;
      ws.send(frame(ids[d], seq, ts, values));
      sent[d] += config.metrics;
      messages++;
      points += config.metrics;
    }
  }, TICK_MS);
}

async function stop() {
  clearInterval(timer);
  stopping = true;
  // Let the sockets flush what they buffered before reporting what was sent.
  const flushStart = Date.now();
  while (sockets.some((ws) => ws.bufferedAmount > 0)) await new Promise((r) => setTimeout(r, 20));
  if (process.env.BENCH_DEBUG) console.error('flushed in', Date.now() - flushStart, 'ms');
  process.send({
    sent: {
      messages,
      points,
      deferred,
      perDevice: sent,
      errors: errors.slice(0, 5),
      errorCount: errors.length,
      closes: closes.length,
      firstCloses: closes.slice(0, 3),
    },
  });
  for (const ws of sockets) ws.close();
  sockets = [];
}

process.on('message', (message) => {
  if (message.start) start(message.start).catch((error) => process.send({ failed: String(error?.stack ?? error) }));
  if (message.stop) void stop().then(() => process.disconnect());
});
