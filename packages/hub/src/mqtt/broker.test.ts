import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '@flotilla/protocol';
import { eventually } from '../gateway/testing.js';
import { HubStartError, startHub } from '../index.js';
import {
  closed,
  connectDevice,
  enroll,
  nextMessage,
  openMqttHub,
  refusedConnect,
  type MqttTestHub,
} from './testing.js';

/**
 * The embedded broker end to end: mqtt.js devices over real sockets against an assembled hub
 * (real registry and SQLite storage, ManualClock), through the same gateway as `/ws/agent`.
 */

async function events(hub: MqttTestHub, device: string, type: string): Promise<StoredEvent[]> {
  const page = await hub.storage.readEvents({ aggregateId: device, limit: 1000 });
  return page.filter((e) => e.type === type);
}

async function metric(hub: MqttTestHub, name: string, labels: string): Promise<number> {
  const text = await hub.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('MQTT broker', () => {
  let hub: MqttTestHub;
  before(async () => {
    hub = await openMqttHub();
  });
  after(async () => {
    await hub.dispose();
  });

  test('a device enrolls with an enrollment token, gets its credential, and connects with it after', async () => {
    const credential = await enroll(hub, 'm-enroll');
    assert.match(credential, /^fld_/);
    await eventually(() => hub.registry.get('m-enroll')?.status.online === false, 'the enrolling session to end');
    const enrolled = await events(hub, 'm-enroll', 'DeviceEnrolled');
    assert.equal(enrolled[0]?.data['transport'], 'mqtt');

    const client = await connectDevice(hub.mqttUrl, 'm-enroll', credential);
    try {
      const device = hub.registry.get('m-enroll');
      assert.equal(device?.status.online, true);
      // The credential waited only until the device connected with it.
      const grants = await client.subscribeAsync('flotilla/m-enroll/credential');
      assert.equal(grants[0]?.qos, 0);
      const late = await Promise.race([
        nextMessage(client, 'flotilla/m-enroll/credential', 200).then(() => 'delivered'),
        new Promise((resolve) => setTimeout(() => resolve('nothing'), 100)),
      ]).catch(() => 'nothing');
      assert.equal(late, 'nothing');
      const connected = await events(hub, 'm-enroll', 'DeviceConnected');
      assert.equal(connected.at(-1)?.data['transport'], 'mqtt');
    } finally {
      await client.endAsync();
    }
  });

  test('telemetry, as an object of numbers or one metric per topic, reaches the registry and the bus', async () => {
    const credential = await enroll(hub, 'm-telemetry');
    const client = await connectDevice(hub.mqttUrl, 'm-telemetry', credential);
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe('flotilla.m-telemetry.telemetry', (_subject, data) => seen.push(data));
    try {
      await client.publishAsync(
        'flotilla/m-telemetry/telemetry',
        JSON.stringify({ 'system.cpu': 42.5, battery: 87.2, ts: 1_700_000_000_123 }),
        { qos: 1 },
      );
      await client.publishAsync('flotilla/m-telemetry/telemetry/system.memory', '63', { qos: 1 });
      await eventually(() => seen.length === 2, 'two telemetry messages on the bus');
      assert.deepEqual(seen[0], { ts: 1_700_000_000_123, metrics: { 'system.cpu': 42.5, battery: 87.2 } });
      assert.deepEqual((seen[1] as { metrics: unknown }).metrics, { 'system.memory': 63 });
      const resources = hub.registry.get('m-telemetry')?.resources;
      assert.equal(resources?.cpu, 42.5);
      assert.equal(resources?.memory, 63);
    } finally {
      unsubscribe();
      await client.endAsync();
    }
  });

  test('log lines, as text or JSON, are stored and published; a refused one is answered on the error topic', async () => {
    const credential = await enroll(hub, 'm-logs');
    const client = await connectDevice(hub.mqttUrl, 'm-logs', credential);
    try {
      await client.subscribeAsync('flotilla/m-logs/error');
      const refusal = nextMessage(client, 'flotilla/m-logs/error');
      await client.publishAsync('flotilla/m-logs/log', 'booted in 2.1 s', { qos: 1 });
      await client.publishAsync(
        'flotilla/m-logs/log',
        JSON.stringify({ level: 'warn', message: 'battery low', fields: { soc: 19 } }),
        { qos: 1 },
      );
      await client.publishAsync(
        'flotilla/m-logs/log',
        JSON.stringify({ level: 'info', message: 'from the future', ts: hub.clock.now() + 3_600_000 }),
        { qos: 1 },
      );
      const read = () => hub.storage.logs.read({ devices: ['m-logs'], order: 'asc', limit: 10 });
      await eventually(async () => (await read()).length === 2, 'two lines stored');
      const lines = await read();
      assert.deepEqual(
        lines.map((l) => [l.level, l.message, l.fields]),
        [
          [30, 'booted in 2.1 s', null],
          [40, 'battery low', { soc: 19 }],
        ],
      );
      const error = JSON.parse((await refusal).toString()) as { code: string; message: string };
      assert.equal(error.code, 'log_refused');
      assert.match(error.message, /^ts_in_future: /);
    } finally {
      await client.endAsync();
    }
  });

  test('a wrong password is refused in the CONNACK and recorded as a security event', async () => {
    await enroll(hub, 'm-badpass');
    const before = await metric(hub, 'flotilla_security_events_total', 'kind="unauthorized"');
    const err = await refusedConnect(hub.mqttUrl, 'm-badpass', 'fld_not-the-credential');
    assert.equal(err.code, 4, `bad user name or password: ${err.message}`);
    const none = await refusedConnect(hub.mqttUrl, 'm-badpass', undefined);
    assert.equal(none.code, 4);
    const noUser = await refusedConnect(hub.mqttUrl, 'not a device id', 'x');
    assert.equal(noUser.code, 4);
    assert.equal(await metric(hub, 'flotilla_security_events_total', 'kind="unauthorized"'), before + 2);
    await eventually(
      async () => (await events(hub, 'm-badpass', 'DeviceAuthFailed')).length === 2,
      'two DeviceAuthFailed',
    );
    const failed = await events(hub, 'm-badpass', 'DeviceAuthFailed');
    assert.equal(failed[0]?.data['transport'], 'mqtt');
    assert.doesNotMatch(JSON.stringify(failed), /fld_not-the-credential/);
  });

  test('a device cannot publish as another device: the publish is dropped and the connection closed', async () => {
    const credential = await enroll(hub, 'm-liar');
    await enroll(hub, 'm-victim');
    const client = await connectDevice(hub.mqttUrl, 'm-liar', credential);
    const seen: unknown[] = [];
    const unsubscribe = hub.bus.subscribe('flotilla.m-victim.telemetry', (_s, data) => seen.push(data));
    const before = await metric(hub, 'flotilla_security_events_total', 'kind="device_mismatch"');
    try {
      const gone = closed(client);
      client.publish('flotilla/m-victim/telemetry', JSON.stringify({ battery: 1 }));
      await gone;
      assert.deepEqual(seen, []);
      assert.equal(await metric(hub, 'flotilla_security_events_total', 'kind="device_mismatch"'), before + 1);
      await eventually(async () => (await events(hub, 'm-liar', 'DeviceMismatch')).length === 1, 'DeviceMismatch');
      const [mismatch] = await events(hub, 'm-liar', 'DeviceMismatch');
      assert.equal(mismatch?.data['claimed'], 'm-victim');
      assert.equal(mismatch?.data['transport'], 'mqtt');
      await eventually(() => hub.registry.get('m-liar')?.status.online === false, 'the liar offline');
    } finally {
      unsubscribe();
      client.end(true);
    }
  });

  test('a device cannot publish on its own hub → device topics or outside flotilla/', async () => {
    const credential = await enroll(hub, 'm-wrongway');
    for (const topic of [
      'flotilla/m-wrongway/cmd/hal.v1.led',
      'elsewhere/topic',
      'flotilla/m-wrongway/telemetry/a/b',
    ]) {
      const client = await connectDevice(hub.mqttUrl, 'm-wrongway', credential);
      const gone = closed(client);
      client.publish(topic, '{}');
      await gone;
      client.end(true);
    }
    await eventually(
      async () => (await events(hub, 'm-wrongway', 'DeviceTopicForbidden')).length === 3,
      'three refusals recorded',
    );
    const [first] = await events(hub, 'm-wrongway', 'DeviceTopicForbidden');
    assert.deepEqual(
      { action: first?.data['action'], topic: first?.data['topic'] },
      { action: 'publish', topic: 'flotilla/m-wrongway/cmd/hal.v1.led' },
    );
  });

  test('a device cannot subscribe to another device’s commands (SUBACK 0x80), only to its own', async () => {
    const credential = await enroll(hub, 'm-snoop');
    const client = await connectDevice(hub.mqttUrl, 'm-snoop', credential);
    try {
      await client.subscribeAsync('flotilla/m-snoop/error');
      const refused = nextMessage(client, 'flotilla/m-snoop/error');
      // mqtt.js rejects a SUBSCRIBE with any refused filter, carrying the SUBACK.
      const filters = [
        'flotilla/m-victim/cmd/#',
        'flotilla/+/cmd/#',
        '#',
        'flotilla/m-snoop/cmd/#',
        'flotilla/m-snoop/telemetry',
      ];
      const suback = await client.subscribeAsync(filters, { qos: 1 }).then(
        () => assert.fail('the SUBSCRIBE should be partly refused'),
        (err: unknown) => (err as { packet: { granted: number[] } }).packet,
      );
      assert.deepEqual(suback.granted, [128, 128, 128, 1, 128]);
      const error = JSON.parse(await refused) as { code: string; topic: string };
      assert.equal(error.code, 'device_mismatch');
      assert.equal(error.topic, 'flotilla/m-victim/cmd/#');
      assert.equal(client.connected, true, 'a refused subscription does not cost the connection');
      await eventually(
        async () => (await events(hub, 'm-snoop', 'DeviceMismatch')).length === 1,
        'recorded once per session',
      );
    } finally {
      await client.endAsync();
    }
  });

  test('commands reach the device on flotilla/<id>/cmd/<capability> and its result comes back to the gateway', async () => {
    const credential = await enroll(hub, 'm-cmd');
    const client = await connectDevice(hub.mqttUrl, 'm-cmd', credential);
    try {
      await client.subscribeAsync('flotilla/m-cmd/cmd/#', { qos: 1 });
      const delivered = nextMessage(client, 'flotilla/m-cmd/cmd/hal.v1.led');
      const result = new Promise((resolve) => hub.gateway.once('result', resolve));
      const sent = hub.gateway.sendTo('m-cmd', 'command', {
        id: 'cmd-1',
        capability: 'hal.v1.led',
        command: 'set',
        args: { on: true },
      });
      assert.equal(sent, true);
      const command = JSON.parse(await delivered) as { id: string; command: string; args: unknown };
      assert.deepEqual(
        { id: command.id, command: command.command, args: command.args },
        { id: 'cmd-1', command: 'set', args: { on: true } },
      );
      await client.publishAsync(
        'flotilla/m-cmd/result',
        JSON.stringify({ id: 'cmd-1', status: 'succeeded', result: { on: true } }),
        { qos: 1 },
      );
      assert.deepEqual(await result, {
        device: 'm-cmd',
        sessionId: hub.gateway.session('m-cmd')?.sessionId,
        ts: hub.clock.now(),
        result: { id: 'cmd-1', status: 'succeeded', result: { on: true } },
      });
    } finally {
      await client.endAsync();
    }
  });

  test('a job over MQTT: progress on flotilla/<id>/progress, the hub’s cancel on flotilla/<id>/cancel', async () => {
    const credential = await enroll(hub, 'm-job');
    const client = await connectDevice(hub.mqttUrl, 'm-job', credential);
    try {
      await client.subscribeAsync('flotilla/m-job/cancel', { qos: 1 });
      const progress = new Promise((resolve) => hub.gateway.once('progress', resolve));
      await client.publishAsync('flotilla/m-job/progress', JSON.stringify({ id: 'job-1', progress: 0.5 }), { qos: 1 });
      assert.deepEqual(await progress, {
        device: 'm-job',
        sessionId: hub.gateway.session('m-job')?.sessionId,
        progress: { id: 'job-1', progress: 0.5 },
      });
      const cancelled = nextMessage(client, 'flotilla/m-job/cancel');
      assert.equal(hub.gateway.sendTo('m-job', 'cancel', { id: 'job-1', reason: 'stop' }), true);
      assert.deepEqual(JSON.parse(await cancelled), { id: 'job-1', reason: 'stop' });
    } finally {
      await client.endAsync();
    }
  });

  test('POST /api/v1/devices/{id}/commands round-trips to an MQTT device that declared the capability in its will', async () => {
    const credential = await enroll(hub, 'm-rest');
    const will = {
      topic: 'flotilla/m-rest/status',
      payload: Buffer.from(
        JSON.stringify({ state: 'offline', capabilities: [{ name: 'hal.v1.led', version: '1.0.0' }] }),
      ),
      qos: 1 as const,
      retain: false,
    };
    const client = await connectDevice(hub.mqttUrl, 'm-rest', credential, { will });
    try {
      assert.deepEqual(hub.registry.get('m-rest')?.capabilities, [{ name: 'hal.v1.led', version: '1.0.0' }]);
      await client.subscribeAsync('flotilla/m-rest/cmd/#', { qos: 1 });
      client.on('message', (topic, payload) => {
        if (topic !== 'flotilla/m-rest/cmd/hal.v1.led') return;
        const { id } = JSON.parse(payload.toString()) as { id: string };
        client.publish('flotilla/m-rest/result', JSON.stringify({ id, status: 'succeeded', result: { on: true } }), {
          qos: 1,
        });
      });
      const res = await hub.inject({
        method: 'POST',
        url: '/api/v1/devices/m-rest/commands',
        payload: { capability: 'hal.v1.led', command: 'set', args: { on: true } },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = JSON.parse(res.body) as { status: string; result: unknown };
      assert.equal(body.status, 'succeeded');
      assert.deepEqual(body.result, { on: true });
    } finally {
      await client.endAsync();
    }
  });

  test('malformed payloads are counted and answered on the error topic; the connection stays', async () => {
    const credential = await enroll(hub, 'm-garbage');
    const client = await connectDevice(hub.mqttUrl, 'm-garbage', credential);
    try {
      await client.subscribeAsync('flotilla/m-garbage/error');
      const badJson = await metric(hub, 'flotilla_frame_errors_total', 'code="bad_json"');
      const badFrame = await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"');
      let answer = nextMessage(client, 'flotilla/m-garbage/error');
      await client.publishAsync('flotilla/m-garbage/telemetry', 'not json');
      assert.deepEqual(JSON.parse(await answer), {
        code: 'bad_json',
        message: (JSON.parse(await answer) as { message: string }).message,
        topic: 'flotilla/m-garbage/telemetry',
      });
      answer = nextMessage(client, 'flotilla/m-garbage/error');
      await client.publishAsync('flotilla/m-garbage/telemetry/battery', '"full"');
      const notNumber = JSON.parse(await answer) as { code: string; message: string };
      assert.equal(notNumber.code, 'bad_frame');
      assert.match(notNumber.message, /battery/);
      answer = nextMessage(client, 'flotilla/m-garbage/error');
      await client.publishAsync('flotilla/m-garbage/status', 'sleepy');
      assert.equal((JSON.parse(await answer) as { code: string }).code, 'bad_frame');
      assert.equal(await metric(hub, 'flotilla_frame_errors_total', 'code="bad_json"'), badJson + 1);
      assert.equal(await metric(hub, 'flotilla_frame_errors_total', 'code="bad_frame"'), badFrame + 2);
      // Still connected and heard.
      await client.publishAsync('flotilla/m-garbage/telemetry/battery', '50', { qos: 1 });
      await eventually(
        () => hub.registry.get('m-garbage')?.resources !== undefined && client.connected,
        'still connected',
      );
    } finally {
      await client.endAsync();
    }
  });

  test('a packet above the size limit closes the connection before it is buffered', async () => {
    const credential = await enroll(hub, 'm-huge');
    const client = await connectDevice(hub.mqttUrl, 'm-huge', credential);
    const before = await metric(hub, 'flotilla_frame_errors_total', 'code="frame_too_large"');
    const gone = closed(client);
    client.publish('flotilla/m-huge/log', Buffer.alloc(1024 * 1024 + 1, 0x61));
    await gone;
    client.end(true);
    assert.equal(await metric(hub, 'flotilla_frame_errors_total', 'code="frame_too_large"'), before + 1);
    await eventually(() => hub.registry.get('m-huge')?.status.online === false, 'the device offline');
  });

  test('presence: a dropped connection (last will) and a published "offline" take the device offline', async () => {
    const credential = await enroll(hub, 'm-will');
    const will = {
      topic: 'flotilla/m-will/status',
      payload: Buffer.from('{"state":"offline","type":"esp32"}'),
      qos: 1 as const,
      retain: true,
    };
    const client = await connectDevice(hub.mqttUrl, 'm-will', credential, { will });
    assert.equal(hub.registry.get('m-will')?.type, 'esp32', 'facts from the JSON last will');
    await client.publishAsync('flotilla/m-will/status', 'online', { qos: 1, retain: true });
    // The network drops: no DISCONNECT, the broker publishes the will and the session ends.
    client.stream.destroy();
    await eventually(() => hub.registry.get('m-will')?.status.online === false, 'the device offline');
    const disconnected = await events(hub, 'm-will', 'DeviceDisconnected');
    assert.equal(disconnected.at(-1)?.data['reason'], 'socket_closed');
    client.end(true);

    const again = await connectDevice(hub.mqttUrl, 'm-will', credential);
    assert.equal(hub.registry.get('m-will')?.status.online, true);
    const gone = closed(again);
    again.publish('flotilla/m-will/status', 'offline');
    await gone;
    await eventually(() => hub.registry.get('m-will')?.status.online === false, 'offline once it said so');
    again.end(true);

    const wrongWill = await refusedConnect(hub.mqttUrl, 'm-will', credential, {
      will: { topic: 'flotilla/m-victim/status', payload: Buffer.from('offline'), qos: 0, retain: false },
    });
    assert.equal(wrongWill.code, 5, 'a will on another device’s topic is not authorized');
  });

  test('a revoked device is cut off at once and refused after', async () => {
    const credential = await enroll(hub, 'm-revoked');
    const client = await connectDevice(hub.mqttUrl, 'm-revoked', credential);
    await client.subscribeAsync('flotilla/m-revoked/error');
    const told = nextMessage(client, 'flotilla/m-revoked/error');
    const gone = closed(client);
    const system = { actor: 'system', correlationId: null, causationId: null };
    assert.equal(await hub.enrollment.revokeCredential('m-revoked', system), true);
    assert.equal((JSON.parse(await told) as { code: string }).code, 'credential_revoked');
    await gone;
    client.end(true);
    const disconnected = await events(hub, 'm-revoked', 'DeviceDisconnected');
    assert.equal(disconnected.at(-1)?.data['reason'], 'credential_revoked');
    const again = await refusedConnect(hub.mqttUrl, 'm-revoked', credential);
    assert.equal(again.code, 5, 'not authorized');
  });

  test('a second connection for the same device replaces the first', async () => {
    const credential = await enroll(hub, 'm-twice');
    const first = await connectDevice(hub.mqttUrl, 'm-twice', credential, { clientId: 'first-client' });
    const firstGone = closed(first);
    const second = await connectDevice(hub.mqttUrl, 'm-twice', credential, { clientId: 'second-client' });
    await firstGone;
    first.end(true);
    assert.equal(hub.registry.get('m-twice')?.status.online, true);
    const connected = await events(hub, 'm-twice', 'DeviceConnected');
    assert.ok(connected.at(-1)?.data['replacedSessionId'], 'the new session replaced the old one');
    await second.endAsync();
  });

  test('MQTT 5 is refused cleanly in the CONNACK (aedes speaks 3.1 and 3.1.1)', async () => {
    const credential = await enroll(hub, 'm-five');
    const err = await refusedConnect(hub.mqttUrl, 'm-five', credential, { protocolVersion: 5 });
    assert.match(err.message, /protocol/i);
    assert.equal(hub.registry.get('m-five')?.status.online, false);
  });

  test('MQTT over WebSocket at /mqtt', async () => {
    const credential = await enroll(hub, 'm-ws');
    const client = await connectDevice(hub.wsUrl, 'm-ws', credential);
    try {
      assert.equal(hub.registry.get('m-ws')?.status.online, true);
      const seen = new Promise((resolve) => {
        const off = hub.bus.subscribe('flotilla.m-ws.telemetry', (_s, data) => {
          off();
          resolve(data);
        });
      });
      await client.publishAsync('flotilla/m-ws/telemetry', '{"battery":12}');
      assert.deepEqual(((await seen) as { metrics: unknown }).metrics, { battery: 12 });
    } finally {
      await client.endAsync();
    }
    await eventually(() => hub.registry.get('m-ws')?.status.online === false, 'offline after DISCONNECT');
  });
});

describe('MQTT broker without device authentication', () => {
  test('any device id connects without a password', async () => {
    const hub = await openMqttHub({ deviceAuth: false });
    try {
      const client = await connectDevice(hub.mqttUrl, 'm-lab', undefined);
      assert.equal(hub.registry.get('m-lab')?.status.online, true);
      await client.endAsync();
    } finally {
      await hub.dispose();
    }
  });
});

describe('startHub with MQTT', () => {
  test('with --tls the MQTT port serves MQTTS with the hub CA', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-mqtts-'));
    const hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      mqttPort: 0,
      tls: true,
      dataDir,
      logLevel: 'silent',
      adminPassword: 'mqtt-test-password',
    });
    try {
      assert.ok(hub.tls && hub.mqttPort);
      const url = `mqtts://127.0.0.1:${hub.mqttPort}`;
      const { token } = await hub.createEnrollmentToken({ uses: 1 });
      const enrolling = await connectDevice(url, 'm-tls', token, { ca: hub.tls.ca, servername: 'localhost' });
      const credential = nextMessage(enrolling, 'flotilla/m-tls/credential');
      await enrolling.subscribeAsync('flotilla/m-tls/credential', { qos: 1 });
      const { credential: secret } = JSON.parse(await credential) as { credential: string };
      await enrolling.endAsync();
      const device = await connectDevice(url, 'm-tls', secret, { ca: hub.tls.ca, servername: 'localhost' });
      assert.equal(device.connected, true);
      await device.endAsync();
      // The hub's certificate is checked: a client that does not trust the hub CA is refused by TLS itself.
      await assert.rejects(connectDevice(url, 'm-tls', secret, { servername: 'localhost' }), /certificate/);
    } finally {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a taken MQTT port fails the start with one line saying how to choose another', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-mqtt-'));
    try {
      await assert.rejects(
        startHub({
          port: 0,
          host: '127.0.0.1',
          mqttPort: port,
          dataDir,
          logLevel: 'silent',
          adminPassword: 'mqtt-test-password',
        }),
        (err: unknown) => {
          assert.ok(err instanceof HubStartError);
          assert.equal(err.code, 'port_in_use');
          assert.match(err.message, new RegExp(`MQTT port ${port} .*--mqtt-port.*FLOTILLA_MQTT_PORT`));
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
      // The failed start released everything: the same data directory starts again.
      const hub = await startHub({
        port: 0,
        host: '127.0.0.1',
        mqttPort: 0,
        dataDir,
        logLevel: 'silent',
        adminPassword: 'mqtt-test-password',
      });
      assert.ok(hub.mqttPort !== undefined && hub.mqttPort > 0);
      await hub.close();
      const off = await startHub({ port: 0, host: '127.0.0.1', mqttPort: false, dataDir, logLevel: 'silent' });
      assert.equal(off.mqttPort, undefined);
      await off.close();
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
