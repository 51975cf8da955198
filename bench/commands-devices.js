// The device side of bench:commands, in its own process (forked with IPC) so the bench's own
// work never delays a device's answer: N devices over /ws/agent or MQTT that declare
// `hal.v1.led` and answer every command at once, optional telemetry at a total rate, and an
// optional plain NATS responder for the raw request/reply baseline.
//
//   args: --hub URL --transport ws|mqtt [--mqtt URL] --devices N --prefix P
//         [--telemetry MSGS_PER_S] [--nats URL --raw SUBJECT]
// IPC: sends {ready} once every device is connected, {stats} when asked, and stops on {stop}.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import mqtt from 'mqtt';
import { connect } from '@nats-io/transport-node';

const { values } = parseArgs({
  options: {
    hub: { type: 'string' },
    transport: { type: 'string', default: 'ws' },
    mqtt: { type: 'string' },
    devices: { type: 'string', default: '1000' },
    prefix: { type: 'string', default: 'bench-cmd-' },
    telemetry: { type: 'string', default: '0' },
    nats: { type: 'string' },
    raw: { type: 'string' },
  },
  strict: true,
});
const count = Number(values.devices);
const telemetryRate = Number(values.telemetry);
const ids = Array.from({ length: count }, (_, i) => `${values.prefix}${i}`);
const CAPABILITIES = [{ name: 'hal.v1.led' }];
const stats = { commands: 0, telemetry: 0 };
const senders = [];
const closers = [];

function wsDevice(id) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${values.hub.replace(/^http/, 'ws')}/ws/agent`, { perMessageDeflate: false });
    let seq = 0;
    const send = (type, payload) =>
      ws.send(JSON.stringify({ v: 1, type, device: id, seq: seq++, ts: Date.now(), payload }));
    ws.on('error', reject);
    ws.on('open', () => send('hello', { type: 'bench', capabilities: CAPABILITIES }));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'welcome') resolve();
      else if (message.type === 'command') {
        stats.commands++;
        send('result', { id: message.payload.id, status: 'succeeded', result: { on: message.payload.args.on } });
      }
    });
    senders.push((metrics) => send('telemetry', { metrics }));
    closers.push(() => ws.close());
  });
}

function mqttDevice(id) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(values.mqtt, {
      clientId: id,
      username: id,
      protocolVersion: 4,
      reconnectPeriod: 0,
      will: {
        topic: `flotilla/${id}/status`,
        payload: Buffer.from(JSON.stringify({ state: 'offline', type: 'bench', capabilities: CAPABILITIES })),
        qos: 1,
        retain: true,
      },
    });
    client.on('error', reject);
    client.on('connect', () => {
      // As device MQTT stacks do (paho, mosquitto): no Nagle delay on a result.
      client.stream.setNoDelay?.(true);
      client.subscribe(`flotilla/${id}/cmd/#`, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
    client.on('message', (_topic, payload) => {
      const command = JSON.parse(String(payload));
      stats.commands++;
      client.publish(
        `flotilla/${id}/result`,
        JSON.stringify({ id: command.id, status: 'succeeded', result: { on: command.args?.on } }),
      );
    });
    senders.push((metrics) => client.publish(`flotilla/${id}/telemetry`, JSON.stringify(metrics)));
    closers.push(() => client.end(true));
  });
}

const open = values.transport === 'mqtt' ? mqttDevice : wsDevice;
// Connect in waves: a thousand handshakes at once only measures the accept queue.
for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map(open));

let nc;
if (values.nats && values.raw) {
  nc = await connect({ servers: values.nats });
  nc.subscribe(values.raw, { callback: (_err, msg) => msg.respond(msg.data) });
  await nc.flush();
}

// Telemetry spread evenly over the devices, a tick every 10 ms.
let timer;
if (telemetryRate > 0) {
  let next = 0;
  let owed = 0;
  timer = setInterval(() => {
    owed += telemetryRate / 100;
    for (; owed >= 1; owed--) {
      senders[next++ % senders.length]({ load: next });
      stats.telemetry++;
    }
  }, 10);
}

process.on('message', async (message) => {
  if (message === 'stats') process.send({ stats });
  if (message === 'stop') {
    clearInterval(timer);
    for (const close of closers) close();
    await nc?.close();
    process.send({ stopped: true }, () => process.exit(0));
  }
});
process.send({ ready: true });
