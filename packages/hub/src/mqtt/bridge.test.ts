import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { eventually } from '../gateway/testing.js';
import { openTestHub, type TestHub } from '../http/testing.js';
import { answerTonypiCommands, connectDevice, nextMessage, tonypiRule } from './testing.js';

/**
 * Bridge mode against the machine's Mosquitto (127.0.0.1:1883; `.ci/run` installs and starts it):
 * mqtt.js devices connect to Mosquitto, never to the hub, and the hub serves them through its
 * one client there. Each run uses its own topic prefix, mapping root and client ids, so runs
 * and other tests sharing the broker do not hear each other.
 */

const BROKER = process.env['FLOTILLA_TEST_MQTT_URL'] ?? 'mqtt://127.0.0.1:1883';
const run = randomBytes(4).toString('hex');
const prefix = `test-${run}`;
const legacyRoot = `tonypi-${run}`;
const led = [{ name: 'hal.v1.led', version: '1.0.0' }];

function topic(device: string, rest: string): string {
  return `${prefix}/flotilla/${device}/${rest}`;
}

/** A device on Mosquitto: Mosquitto authenticates nothing here, the hub decides who it serves. */
function device(id: string, options: Parameters<typeof connectDevice>[3] = {}): Promise<MqttClient> {
  return connectDevice(BROKER, id, undefined, { clientId: `${id}-${run}`, ...options });
}

describe('MQTT bridge to an external broker (Mosquitto)', () => {
  let hub: TestHub;
  /** Retained topics the tests left on the broker, cleared at the end. */
  const retained = new Set<string>();

  before(async () => {
    hub = await openTestHub('sqlite', {
      mqttUrl: BROKER,
      mqttPrefix: prefix,
      mqttMappings: [tonypiRule(legacyRoot)],
    });
  });
  after(async () => {
    await hub.dispose();
    const cleaner = await device(`cleaner-${run}`);
    for (const t of retained) await cleaner.publishAsync(t, '', { retain: true, qos: 1 });
    await cleaner.endAsync();
  });

  async function enrollThroughBridge(id: string): Promise<string> {
    const token = (
      await hub.enrollment.createToken(
        { uses: 1, labels: { via: 'bridge' } },
        { actor: 'system', correlationId: null, causationId: null },
      )
    ).token;
    const client = await device(id);
    try {
      await client.subscribeAsync(topic(id, 'credential'), { qos: 1 });
      const credential = nextMessage(client, topic(id, 'credential'));
      await client.publishAsync(topic(id, 'enroll'), JSON.stringify({ token }), { qos: 1 });
      return (JSON.parse(await credential) as { credential: string }).credential;
    } finally {
      await client.endAsync();
    }
  }

  /** Online the MQTT way: a retained JSON status stating the facts, and an `offline` last will. */
  async function online(id: string, options: Parameters<typeof connectDevice>[3] = {}): Promise<MqttClient> {
    const status = topic(id, 'status');
    retained.add(status);
    const client = await device(id, {
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...options,
    });
    await client.subscribeAsync(topic(id, 'cmd/#'), { qos: 1 });
    await client.publishAsync(status, JSON.stringify({ state: 'online', type: 'esp32', capabilities: led }), {
      qos: 1,
      retain: true,
    });
    // Online and with the facts its status stated: the enrollment's session may have made it
    // online a moment before, without them.
    await eventually(
      () => hub.registry.get(id)?.status.online === true && hub.registry.get(id)?.capabilities.length === led.length,
      `${id} online through the bridge, with its capabilities`,
    );
    return client;
  }

  async function command(id: string, args: Record<string, unknown>): Promise<{ status: string; result?: unknown }> {
    const res = await hub.inject({
      method: 'POST',
      url: `/api/v1/devices/${id}/commands`,
      payload: { capability: 'hal.v1.led', command: 'set', args },
    });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as { status: string; result?: unknown };
  }

  test('a device enrolls through the bridge, comes online by its retained status, and a command round-trips', async () => {
    const id = `b-led-${run}`;
    const credential = await enrollThroughBridge(id);
    assert.match(credential, /^fld_/);
    const client = await online(id);
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe(`flotilla.${id}.telemetry`, (_subject, data) => seen.push(data));
    try {
      const known = hub.registry.get(id);
      assert.equal(known?.type, 'esp32');
      assert.deepEqual(known?.labels, { via: 'bridge' });
      assert.deepEqual(known?.capabilities, led);

      await client.publishAsync(topic(id, 'telemetry'), JSON.stringify({ battery: 91, ts: 1_700_000_000_000 }), {
        qos: 1,
      });
      await eventually(() => seen.length === 1, 'telemetry through the bridge');
      assert.deepEqual(seen[0], { ts: 1_700_000_000_000, metrics: { battery: 91 } });

      client.on('message', (received, payload) => {
        if (received !== topic(id, 'cmd/hal.v1.led')) return;
        const { id: commandId, args } = JSON.parse(payload.toString()) as { id: string; args: unknown };
        client.publish(topic(id, 'result'), JSON.stringify({ id: commandId, status: 'succeeded', result: args }), {
          qos: 1,
        });
      });
      const answer = await command(id, { on: true });
      assert.equal(answer.status, 'succeeded');
      assert.deepEqual(answer.result, { on: true });
    } finally {
      unsubscribe();
      await client.endAsync();
    }
  });

  test('an MQTT 5 device answers on the response topic with the correlation data alone', async () => {
    const id = `b-five-${run}`;
    await enrollThroughBridge(id);
    const client = await online(id, { protocolVersion: 5 });
    try {
      client.on('message', (_received, _payload, packet) => {
        const { responseTopic, correlationData } = packet.properties ?? {};
        if (responseTopic === undefined || correlationData === undefined) return;
        client.publish(responseTopic, JSON.stringify({ status: 'succeeded', result: { v5: true } }), {
          qos: 1,
          properties: { correlationData },
        });
      });
      const answer = await command(id, { on: false });
      assert.equal(answer.status, 'succeeded');
      assert.deepEqual(answer.result, { v5: true });
    } finally {
      await client.endAsync();
    }
  });

  test('bad input through the bridge: an oversize publish never reaches the hub, a malformed one is answered', async () => {
    const id = `b-bad-${run}`;
    await enrollThroughBridge(id);
    const client = await online(id);
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe(`flotilla.${id}.telemetry`, (_subject, data) => seen.push(data));
    try {
      await client.subscribeAsync(topic(id, 'error'), { qos: 1 });
      await client.publishAsync(topic(id, 'telemetry'), JSON.stringify({ big: 1, pad: 'x'.repeat(2 * 1024 * 1024) }), {
        qos: 1,
      });
      const refused = nextMessage(client, topic(id, 'error'));
      await client.publishAsync(topic(id, 'telemetry'), 'not json', { qos: 1 });
      const error = JSON.parse(await refused) as { code: string };
      assert.equal(error.code, 'bad_json');
      await client.publishAsync(topic(id, 'telemetry'), '{"small":1}', { qos: 1 });
      await eventually(() => seen.length === 1, 'the small one');
      assert.deepEqual((seen[0] as { metrics: unknown }).metrics, { small: 1 });
      assert.equal(hub.registry.get(id)?.status.online, true);
    } finally {
      unsubscribe();
      await client.endAsync();
    }
  });

  test('telemetry storage behind: the bridge reads nothing more from the broker, then reads what waited', async () => {
    const id = `b-bp-${run}`;
    await enrollThroughBridge(id);
    const client = await online(id);
    // Another client on the same topic: it shows what the broker has delivered meanwhile.
    const observer = await device(`b-bp-observer-${run}`);
    const observed: number[] = [];
    observer.on('message', (_topic, payload) => observed.push((JSON.parse(payload.toString()) as { b: number }).b));
    await observer.subscribeAsync(topic(id, 'telemetry'), { qos: 1 });
    const now = hub.clock.now();
    const stored = async (): Promise<number[]> =>
      (await hub.storage.telemetry.points({ device: id, metric: 'b', from: 0, to: now + 100, limit: 10 })).map(
        (point) => point.value,
      );
    // Bridged sessions the gateway paused (devices of earlier tests too).
    const paused = async (): Promise<number> =>
      Number(
        (await hub.metrics.registry.metrics())
          .split('\n')
          .find((line) => line.startsWith('flotilla_device_connections_paused{transport="mqtt-bridge"}'))
          ?.split(' ')
          .pop(),
      );
    try {
      hub.telemetry.emit('pressure', 'full');
      assert.ok((await paused()) >= 1, 'bridged sessions paused');
      for (const b of [1, 2, 3]) {
        await client.publishAsync(topic(id, 'telemetry'), JSON.stringify({ b, ts: now + b }), { qos: 1 });
      }
      // The first publish read after the pause went to storage and is held: no PUBACK for it,
      // and no packet after it is read; the broker keeps them.
      await eventually(() => hub.mqttBridge?.holding === true, 'the bridge to hold a publish');
      await eventually(() => observed.length === 3, 'the broker to have delivered all three');
      await eventually(async () => (await stored()).length === 1, 'the publish in hand stored');
      assert.deepEqual(await stored(), [1]);
      // Ten heartbeat intervals the hub caused itself: the device stays online.
      for (let i = 0; i < 20; i++) hub.clock.advance(hub.gateway.heartbeatIntervalMs / 2);
      assert.equal(hub.gateway.presence.sweep(), 0);
      assert.equal(hub.registry.get(id)?.status.online, true);
      assert.equal(hub.mqttBridge?.holding, true);

      hub.telemetry.emit('pressure', 'ok');
      await eventually(async () => (await stored()).length === 3, 'what waited in the broker, stored');
      assert.deepEqual(await stored(), [1, 2, 3]);
      assert.equal(hub.mqttBridge?.holding, false);
      assert.equal(await paused(), 0);
      assert.equal(hub.registry.get(id)?.status.online, true);
    } finally {
      hub.telemetry.emit('pressure', 'ok');
      await observer.endAsync();
      await client.endAsync();
    }
  });

  test('presence: the broker’s last will takes the device offline; a retained status brings it back', async () => {
    const id = `b-will-${run}`;
    await enrollThroughBridge(id);
    const client = await online(id);
    // The network drops: Mosquitto publishes the retained `offline` will.
    client.stream.destroy();
    client.end(true);
    await eventually(() => hub.registry.get(id)?.status.online === false, 'offline by the will');
    const disconnected = (await hub.storage.readEvents({ aggregateId: id, limit: 100 })).filter(
      (e) => e.type === 'DeviceDisconnected',
    );
    assert.equal(disconnected.at(-1)?.data['reason'], 'socket_closed');

    // Silence is not absence: a device present by its status stays so past 3 heartbeat intervals.
    const again = await online(id);
    try {
      for (let i = 0; i < 8; i++) hub.clock.advance(hub.gateway.heartbeatIntervalMs / 2);
      assert.equal(hub.registry.get(id)?.status.online, true);
    } finally {
      await again.endAsync();
    }
  });

  test('a device the hub did not enroll is not served, and its publishes are not asked about one by one', async () => {
    const id = `b-stranger-${run}`;
    const status = topic(id, 'status');
    retained.add(status);
    const client = await device(id);
    try {
      const before = await hub.storage.readEvents({ aggregateId: id, limit: 100 });
      await client.publishAsync(status, 'online', { qos: 1, retain: true });
      for (let i = 0; i < 20; i++) await client.publishAsync(topic(id, 'telemetry'), '{"cpu":1}', { qos: 1 });
      await eventually(
        async () => (await hub.storage.readEvents({ aggregateId: id, limit: 100 })).length > before.length,
        'the refusal recorded',
      );
      const refusals = (await hub.storage.readEvents({ aggregateId: id, limit: 100 })).filter(
        (e) => e.type === 'DeviceAuthFailed',
      );
      assert.equal(refusals.length, 1, 'one refusal, then left alone for a heartbeat interval');
      assert.equal(refusals[0]?.data['transport'], 'mqtt-bridge');
      assert.notEqual(hub.registry.get(id)?.status.online, true);
    } finally {
      await client.endAsync();
    }
  });

  test('a topic-mapped legacy device through the bridge: telemetry in, command out, response correlated', async () => {
    const id = `tonypi-${run}`;
    await enrollThroughBridge(id);
    const robot = await device(id);
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe(`flotilla.${id}.telemetry`, (_subject, data) => seen.push(data));
    try {
      await robot.subscribeAsync(`${legacyRoot}/${id}/command/request`, { qos: 1 });
      answerTonypiCommands(robot, legacyRoot, id);
      // No status topic: the first publish opens the session, with the rule's facts.
      await robot.publishAsync(
        `${legacyRoot}/${id}/telemetry`,
        JSON.stringify({ robot_id: id, timestamp: 1_700_000_001, servos: { '3': { temperature: 41 } } }),
        { qos: 1 },
      );
      await eventually(() => seen.length === 1, 'the mapped telemetry');
      assert.deepEqual(seen[0], { ts: 1_700_000_001_000, metrics: { 'servos.3.temperature': 41 } });
      assert.equal(hub.registry.get(id)?.type, 'tonypi');
      const answer = await command(id, { on: true });
      assert.equal(answer.status, 'succeeded');
      assert.deepEqual(answer.result, { ran: 'hal.v1.led.set', with: { on: true } });
    } finally {
      unsubscribe();
      await robot.endAsync();
    }
  });
});

describe('MQTT bridge start', () => {
  test('a broker that does not answer stops the start with one line, without the password', async () => {
    await assert.rejects(
      openTestHub('sqlite', { mqttUrl: 'mqtt://hub:s3cret@127.0.0.1:1', mqttPrefix: prefix }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'mqtt_unreachable');
        assert.doesNotMatch(err.message, /s3cret/);
        assert.match(err.message, /127\.0\.0\.1:1/);
        return true;
      },
    );
  });
});
