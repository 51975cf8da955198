import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope, type MessageOf } from '@flotilla/protocol';
import { connectDevice, openMqttHub } from '../mqtt/testing.js';
import { eventually, TestDevice } from './testing.js';
import { AGENT_WS_PATH } from './ws-agent.js';

/**
 * Backpressure on the transports: while the ingest says `full`, the hub reads no device
 * connection; devices stay online (presence is held, paused WebSockets get pings), and what they
 * sent meanwhile is read and stored once the ingest says `ok`. The pressure is the real ingest's
 * event, raised here by the test rather than by a slow disk.
 */
test('ingest pressure pauses /ws/agent and MQTT connections without expiring them; resuming reads what waited', async (t) => {
  const hub = await openMqttHub({ deviceAuth: false, heartbeatIntervalMs: 1000 });
  t.after(() => hub.dispose());
  const wsUrl = hub.wsUrl.replace('/mqtt', AGENT_WS_PATH);
  const { device } = await TestDevice.online(wsUrl, 'bp-ws');
  let pings = 0;
  device.socket.on('ping', () => pings++);
  const mqtt = await connectDevice(hub.mqttUrl, 'bp-mqtt', 'any', { keepalive: 60 });
  t.after(() => mqtt.endAsync(true));
  await eventually(() => hub.registry.get('bp-mqtt')?.status.online === true, 'the MQTT device online');

  const paused = async (transport: string): Promise<number> => {
    const text = await hub.metrics.registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`flotilla_device_connections_paused{transport="${transport}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  hub.telemetry.emit('pressure', 'full');
  assert.equal(await paused('ws'), 1);
  assert.equal(await paused('mqtt'), 1);
  const now = hub.clock.now();
  device.sendRaw(JSON.stringify(envelope('telemetry', 'bp-ws', 1, now, { metrics: { battery: 50 }, seq: 7 })));
  await mqtt.publishAsync('flotilla/bp-mqtt/telemetry', JSON.stringify({ battery: 40, ts: now }), { qos: 0 });

  // Ten heartbeat intervals of silence the hub caused itself: nobody expires, the agent gets pings.
  for (let i = 0; i < 20; i++) hub.clock.advance(500);
  await eventually(() => pings >= 10, 'pings to the paused WebSocket');
  assert.equal(hub.gateway.presence.sweep(), 0);
  assert.equal(hub.registry.get('bp-ws')?.status.online, true);
  assert.equal(hub.registry.get('bp-mqtt')?.status.online, true);

  hub.telemetry.emit('pressure', 'ok');
  assert.equal(await paused('ws'), 0);
  const ack = (await device.next('ack')) as MessageOf<'ack'>;
  assert.deepEqual(ack.payload, { of: 'telemetry', seq: 7 });
  const battery = (id: string) =>
    hub.storage.telemetry.points({ device: id, metric: 'battery', from: 0, to: now + 1, limit: 10 });
  await eventually(async () => (await battery('bp-mqtt')).length === 1, 'the MQTT publish stored after resuming');
  assert.deepEqual(await battery('bp-ws'), [{ ts: now, value: 50 }]);
  assert.match(await hub.metrics.registry.metrics(), /^flotilla_device_read_pauses_total 1$/m);
  assert.match(await hub.metrics.registry.metrics(), /^flotilla_device_reads_paused_seconds_total 10$/m);
  // Presence starts counting again from the resume: still online a moment later.
  assert.equal(hub.gateway.presence.sweep(), 0);
  await device.close();
  await eventually(() => hub.registry.get('bp-ws')?.status.online === false, 'the closed device offline');
});
