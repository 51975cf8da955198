// The device side of bench:ingest, in its own process (forked by bench/ingest.js) so the hub's
// CPU is its own: N WebSocket connections to /ws/agent speaking the agent protocol (hello, then
// telemetry frames), each sending `rate` messages of `metrics` points per second, spread evenly
// over time. A connection whose socket buffer is full skips its turn (the hub is not reading
// fast enough): those messages are never sent, so they count as "deferred", not as loss.
//
// With `numbered`, each message carries the device's durable telemetry number (`payload.seq`)
// and the hub acknowledges it after the durable write (`ack {of: 'telemetry', seq}`, cumulative):
// the time from send to ack is the ingest-to-durable latency, sampled on every 10th message.
//
// Parent → child: {start: {url, devices, metrics, rate, prefix, numbered}} then {stop: true}.
// Child → parent: {connected}, then {sent: {messages, points, deferred, perDevice, acked, ackMs}}.
import WebSocket from 'ws';

// About 40 messages: a device whose hub stops reading holds back, as an agent would.
const MAX_BUFFERED = 64 * 1024;
const TICK_MS = 5;
const SAMPLE_EVERY = 10;

let config;
let sockets = [];
let sent = [];
let messages = 0;
let points = 0;
let deferred = 0;
let timer;
let stopping = false;
const errors = [];
const closes = [];
/** Per device: the newest seq acknowledged, and sampled (seq, sent at) not acknowledged yet. */
let acked = [];
let waiting = [];
const ackMs = [];

function frame(device, envelopeSeq, seq, ts, values) {
  const numbered = config.numbered ? `,"seq":${seq}` : '';
  return `{"v":1,"type":"telemetry","device":"${device}","seq":${envelopeSeq},"ts":${ts},"payload":{"metrics":{${values}}${numbered}}}`;
}

function onAck(d, seq) {
  if (seq <= acked[d]) return;
  acked[d] = seq;
  const now = performance.now();
  const pending = waiting[d];
  while (pending.length > 0 && pending[0][0] <= seq) ackMs.push(now - pending.shift()[1]);
}

async function connect(id, d) {
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
  ws.on('close', (code, reason) => {
    if (!stopping) closes.push(`${id}: ${code} ${String(reason)}`);
  });
  // Only acks of telemetry and errors matter here; the rest is not parsed.
  ws.on('message', (data) => {
    const text = String(data);
    if (text.includes('"type":"ack"') && text.includes('"of":"telemetry"')) onAck(d, JSON.parse(text).payload.seq);
    else if (text.includes('"type":"error"')) errors.push(text.slice(0, 300));
  });
  return ws;
}

async function start(options) {
  config = options;
  const ids = Array.from({ length: config.devices }, (_, i) => `${config.prefix}${i}`);
  acked = new Array(ids.length).fill(-1);
  waiting = ids.map(() => []);
  // 100 handshakes in flight: a connect storm is bench:connect's subject, not this one's.
  for (let i = 0; i < ids.length; i += 100) {
    sockets.push(...(await Promise.all(ids.slice(i, i + 100).map((id, k) => connect(id, i + k)))));
  }
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
      if (config.numbered && seq % SAMPLE_EVERY === 0) waiting[d].push([seq, performance.now()]);
      ws.send(frame(ids[d], seq, seq, ts, values));
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
  while (sockets.some((ws) => ws.bufferedAmount > 0)) await new Promise((r) => setTimeout(r, 20));
  // Numbered: wait (bounded) for the acks of everything sent.
  const deadline = Date.now() + 120_000;
  while (config.numbered && Date.now() < deadline && waiting.some((w) => w.length > 0)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // Disconnecting right after a plain send can drop this message (it is large: every device's
  // count and the ack samples): the parent then waited for it forever. Wait until it is written.
  await new Promise((resolve) =>
    process.send(
      {
        sent: {
          messages,
          points,
          deferred,
          perDevice: sent,
          unacked: waiting.reduce((n, w) => n + w.length, 0),
          ackMs,
          errors: errors.slice(0, 5),
          errorCount: errors.length,
          closes: closes.length,
          firstCloses: closes.slice(0, 3),
        },
      },
      resolve,
    ),
  );
  for (const ws of sockets) ws.close();
  sockets = [];
}

process.on('message', (message) => {
  if (message.start) start(message.start).catch((error) => process.send({ failed: String(error?.stack ?? error) }));
  if (message.stop) void stop().then(() => process.disconnect());
});
