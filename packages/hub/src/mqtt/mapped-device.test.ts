import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../gateway/testing.js';
import {
  answerTonypiCommands,
  closed,
  connectDevice,
  enroll,
  nextMessage,
  openMqttHub,
  tonypiRule,
  type MqttTestHub,
} from './testing.js';

/**
 * A legacy fleet on its own topics (seed 001's TonyPi robots), through the embedded broker with
 * topic mapping rules: mqtt.js devices that never use a `flotilla/` topic for their work.
 */

describe('MQTT topic mapping on the embedded broker', () => {
  let hub: MqttTestHub;
  before(async () => {
    hub = await openMqttHub({ mqttMappings: [tonypiRule()] });
  });
  after(async () => {
    await hub.dispose();
  });

  test('a TonyPi robot sends telemetry and answers a command on its own topics, correlated', async () => {
    const id = 'tonypi-01';
    const credential = await enroll(hub, id);
    const will = {
      topic: `tonypi/${id}/status`,
      payload: Buffer.from('{"status":"offline"}'),
      qos: 1 as const,
      retain: true,
    };
    const robot = await connectDevice(hub.mqttUrl, id, credential, { will });
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe(`flotilla.${id}.telemetry`, (_subject, data) => seen.push(data));
    try {
      const device = hub.registry.get(id);
      assert.equal(device?.type, 'tonypi', 'facts from the mapping rule');
      assert.deepEqual(device?.capabilities, [{ name: 'hal.v1.led', version: '1.0.0' }]);

      await robot.publishAsync(`tonypi/${id}/status`, '{"status":"online"}', { qos: 1, retain: true });
      await robot.publishAsync(
        `tonypi/${id}/telemetry`,
        JSON.stringify({
          robot_id: id,
          timestamp: 1_700_000_000.25,
          battery: { percentage: 87, voltage: 7.9 },
          cpu: 12.5,
          walking: true,
        }),
        { qos: 1 },
      );
      await eventually(() => seen.length === 1, 'the telemetry on the bus');
      assert.deepEqual(seen[0], {
        ts: 1_700_000_000_250,
        metrics: { 'battery.percentage': 87, 'battery.voltage': 7.9, cpu: 12.5, walking: 1 },
      });

      await robot.subscribeAsync(`tonypi/${id}/command/request`, { qos: 1 });
      answerTonypiCommands(robot, 'tonypi', id);
      const res = await hub.inject({
        method: 'POST',
        url: `/api/v1/devices/${id}/commands`,
        payload: { capability: 'hal.v1.led', command: 'set', args: { on: true, color: '#00ff00' } },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = JSON.parse(res.body) as { id: string; status: string; result: unknown };
      assert.equal(body.status, 'succeeded');
      assert.deepEqual(body.result, { ran: 'hal.v1.led.set', with: { on: true, color: '#00ff00' } });

      // The legacy failure shape becomes a failed result with the device's message.
      robot.removeAllListeners('message');
      robot.on('message', (topic, payload) => {
        if (topic !== `tonypi/${id}/command/request`) return;
        const { request_id } = JSON.parse(payload.toString()) as { request_id: string };
        robot.publish(
          `tonypi/${id}/command/response`,
          JSON.stringify({ request_id, status: 'error', message: 'servo 3 stalled' }),
        );
      });
      const failed = await hub.inject({
        method: 'POST',
        url: `/api/v1/devices/${id}/commands`,
        payload: { capability: 'hal.v1.led', command: 'set', args: { on: false } },
      });
      const outcome = JSON.parse(failed.body) as { status: string; error?: { message: string } };
      assert.equal(outcome.status, 'failed', failed.body);
      assert.equal(outcome.error?.message, 'servo 3 stalled');
    } finally {
      unsubscribe();
      await robot.endAsync();
    }
  });

  test('the status topic and its last will carry presence', async () => {
    const id = 'tonypi-02';
    const credential = await enroll(hub, id);
    const will = {
      topic: `tonypi/${id}/status`,
      payload: Buffer.from('{"status":"offline"}'),
      qos: 1 as const,
      retain: false,
    };
    const robot = await connectDevice(hub.mqttUrl, id, credential, { will });
    assert.equal(hub.registry.get(id)?.status.online, true);
    robot.stream.destroy();
    await eventually(() => hub.registry.get(id)?.status.online === false, 'offline once the broker published the will');
    robot.end(true);

    const again = await connectDevice(hub.mqttUrl, id, credential);
    const gone = closed(again);
    again.publish(`tonypi/${id}/status`, '{"status":"offline"}');
    await gone;
    again.end(true);
    await eventually(() => hub.registry.get(id)?.status.online === false, 'offline once it said so');
  });

  test('mapped topics are the device’s own: another robot’s are refused, and devices outside the rule have none', async () => {
    const credential = await enroll(hub, 'tonypi-03');
    const robot = await connectDevice(hub.mqttUrl, 'tonypi-03', credential);
    try {
      await robot.subscribeAsync('flotilla/tonypi-03/error');
      // mqtt.js rejects a SUBSCRIBE with any refused filter, carrying the SUBACK.
      const suback = await robot
        .subscribeAsync([
          'tonypi/tonypi-04/command/request',
          'tonypi/+/command/request',
          'tonypi/tonypi-03/command/request',
        ])
        .then(
          () => assert.fail('the SUBSCRIBE should be partly refused'),
          (err: unknown) => (err as { packet: { granted: number[] } }).packet,
        );
      assert.deepEqual(suback.granted, [128, 128, 0]);
      const answer = nextMessage(robot, 'flotilla/tonypi-03/error');
      await robot.publishAsync('tonypi/tonypi-03/telemetry', '{"timestamp":"yesterday"}');
      const refused = JSON.parse(await answer) as { code: string; message: string; topic: string };
      assert.equal(refused.code, 'bad_frame');
      assert.match(refused.message, /timestamp/);
      assert.equal(refused.topic, 'tonypi/tonypi-03/telemetry');

      const gone = closed(robot);
      robot.publish('tonypi/tonypi-04/telemetry', '{"cpu":1}');
      await gone;
    } finally {
      robot.end(true);
    }

    // A device the rule does not apply to cannot use the legacy topics at all.
    const plain = await connectDevice(hub.mqttUrl, 'm-plain', await enroll(hub, 'm-plain'));
    try {
      const suback = await plain.subscribeAsync('tonypi/m-plain/command/request').then(
        () => assert.fail('the SUBSCRIBE should be refused'),
        (err: unknown) => (err as { packet: { granted: number[] } }).packet,
      );
      assert.deepEqual(suback.granted, [128]);
      const gone = closed(plain);
      plain.publish('tonypi/m-plain/telemetry', '{"cpu":1}');
      await gone;
    } finally {
      plain.end(true);
    }
  });
});

describe('MQTT topic mapping rules in the hub config', () => {
  test('bad rules stop the start with one line saying what is wrong', async () => {
    const rule = tonypiRule();
    const cases: [unknown, RegExp][] = [
      [[{ ...rule, topics: { telemetry: 'tonypi/telemetry' } }], /must hold \{device\} once/],
      [[{ ...rule, topics: { telemetry: 'tonypi/+/telemetry' } }], /wildcard/],
      [[{ ...rule, topics: { telemetry: 'flotilla/{device}/telemetry' } }], /cannot be under flotilla/],
      [[{ ...rule, topics: { command: 'tonypi/{device}/{metric}' } }], /\{metric\} cannot stand in the command topic/],
      [[rule, { ...rule, name: 'other' }], /reads the same topics/],
      [[{ ...rule, colour: 'red' }], /MQTT mapping rules/],
    ];
    for (const [mqttMappings, message] of cases)
      await assert.rejects(openMqttHub({ mqttMappings }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'bad_config');
        assert.match(err.message, message);
        return true;
      });
  });
});
