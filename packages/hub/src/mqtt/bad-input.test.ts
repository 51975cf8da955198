import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as connectTcp, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { eventually } from '../gateway/testing.js';
import { closed, connectDevice, enroll, openMqttHub, type MqttTestHub } from './testing.js';

/**
 * One client's bad input costs that client its connection and nothing more: a bystander device
 * stays connected through every kind of it and still answers a command at the end. The bad
 * clients speak raw bytes where mqtt.js would refuse to send them.
 */

async function metric(hub: MqttTestHub, name: string, labels: string): Promise<number> {
  const text = await hub.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** A raw TCP connection to the broker; resolves with it once connected. */
function raw(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the broker closes the raw connection (it must, on its own). */
function closedRaw(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.on('error', () => undefined);
    // Read what the broker sends (a CONNACK): a socket never read never sees its end.
    socket.resume();
  });
}

function connectPacket(id: string, password: string): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: id,
    keepalive: 30,
    username: id,
    password: Buffer.from(password),
  });
}

describe('MQTT bad input', () => {
  let hub: MqttTestHub;
  let bystander: MqttClient;
  before(async () => {
    hub = await openMqttHub();
    const will = {
      topic: 'flotilla/bystander/status',
      payload: Buffer.from(
        JSON.stringify({ state: 'offline', capabilities: [{ name: 'hal.v1.led', version: '1.0.0' }] }),
      ),
      qos: 1 as const,
      retain: false,
    };
    bystander = await connectDevice(hub.mqttUrl, 'bystander', await enroll(hub, 'bystander'), { will });
    await bystander.subscribeAsync('flotilla/bystander/cmd/#', { qos: 1 });
    bystander.on('message', (topic, payload) => {
      if (!topic.startsWith('flotilla/bystander/cmd/')) return;
      const { id } = JSON.parse(payload.toString()) as { id: string };
      bystander.publish('flotilla/bystander/result', JSON.stringify({ id, status: 'succeeded' }), { qos: 1 });
    });
  });
  after(async () => {
    await bystander.endAsync();
    await hub.dispose();
  });

  test('garbage instead of a CONNECT closes that connection only', { timeout: 20_000 }, async () => {
    const socket = await raw(hub.mqttUrl);
    const gone = closedRaw(socket);
    // Packet type 0 is reserved [MQTT-2.2.1]: no MQTT packet starts with it.
    socket.write(Buffer.from([0x00, 0x02, 0xde, 0xad]));
    await gone;
    assert.equal(bystander.connected, true);
  });

  test(
    'a malformed packet from an authenticated device ends its session, not the others',
    { timeout: 20_000 },
    async () => {
      const credential = await enroll(hub, 'bad-packet');
      const socket = await raw(hub.mqttUrl);
      const gone = closedRaw(socket);
      socket.write(connectPacket('bad-packet', credential));
      await eventually(() => hub.registry.get('bad-packet')?.status.online === true, 'connected');
      const counted = await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"');
      // A PUBLISH with QoS 3, which does not exist [MQTT-3.3.1-4].
      socket.write(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
      await gone;
      await eventually(() => hub.registry.get('bad-packet')?.status.online === false, 'its session ended');
      assert.equal(await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"'), counted + 1);
      assert.equal(bystander.connected, true);
    },
  );

  test(
    'a Remaining Length of five bytes is malformed: counted, the connection closed',
    { timeout: 20_000 },
    async () => {
      const before = await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"');
      const socket = await raw(hub.mqttUrl);
      const gone = closedRaw(socket);
      // [MQTT-2.2.3]: at most four bytes of Remaining Length.
      socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
      await gone;
      assert.equal(await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"'), before + 1);
      assert.equal(bystander.connected, true);
    },
  );

  test('an oversize payload and a forbidden topic cost their senders the connection; the bystander still answers', async () => {
    const big = await connectDevice(hub.mqttUrl, 'big', await enroll(hub, 'big'));
    const bigGone = closed(big);
    big.publish('flotilla/big/telemetry', Buffer.alloc(2 * 1024 * 1024, 0x20));
    await bigGone;
    big.end(true);

    const nosy = await connectDevice(hub.mqttUrl, 'nosy', await enroll(hub, 'nosy'));
    const nosyGone = closed(nosy);
    nosy.publish(
      'flotilla/bystander/cmd/hal.v1.led',
      JSON.stringify({ id: 'x', capability: 'hal.v1.led', command: 'set', args: {} }),
    );
    await nosyGone;
    nosy.end(true);

    assert.equal(bystander.connected, true);
    assert.equal(hub.registry.get('bystander')?.status.online, true);
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/devices/bystander/commands',
      payload: { capability: 'hal.v1.led', command: 'set', args: { on: true } },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((JSON.parse(res.body) as { status: string }).status, 'succeeded');
  });
});
