import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { HubOptions } from '../config.js';
import { eventually } from '../gateway/testing.js';
import { openTestHub, type TestHub } from '../http/testing.js';

/**
 * An assembled hub whose MQTT broker listens on a free port of 127.0.0.1 (and whose HTTP app
 * too, for `/mqtt` over WebSocket), and devices speaking to it with mqtt.js. Tests only.
 */
export interface MqttTestHub extends TestHub {
  /** `mqtt://127.0.0.1:<port>` */
  readonly mqttUrl: string;
  /** `ws://127.0.0.1:<port>/mqtt` */
  readonly wsUrl: string;
  /** A fresh single-use enrollment token (`fle_…`). */
  enrollmentToken(labels?: Record<string, string>): Promise<string>;
}

export async function openMqttHub(options: HubOptions = {}): Promise<MqttTestHub> {
  const hub = await openTestHub('sqlite', { mqttPort: 0, ...options });
  try {
    if (!hub.mqtt) throw new Error('the hub has no MQTT broker');
    const mqttPort = await hub.mqtt.listen({ port: 0, host: '127.0.0.1' });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const address = hub.app.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : 0;
    return {
      ...hub,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
      async enrollmentToken(labels = {}) {
        const system = { actor: 'system', correlationId: null, causationId: null };
        return (await hub.enrollment.createToken({ uses: 1, labels }, system)).token;
      },
    };
  } catch (err) {
    await hub.dispose();
    throw err;
  }
}

/** A device over mqtt.js that never reconnects on its own (tests decide when it connects). */
export function connectDevice(
  url: string,
  id: string,
  password: string | undefined,
  options: IClientOptions = {},
): Promise<MqttClient> {
  return connectAsync(url, {
    username: id,
    ...(password !== undefined && { password }),
    clientId: id,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
}

/** The error mqtt.js rejects a refused CONNECT with, or fails if the CONNECT was accepted. */
export async function refusedConnect(
  url: string,
  id: string,
  password: string | undefined,
  options: IClientOptions = {},
): Promise<Error & { code?: number }> {
  try {
    const client = await connectDevice(url, id, password, options);
    await client.endAsync(true);
  } catch (err) {
    return err as Error & { code?: number };
  }
  throw new Error(`the CONNECT of ${id} was accepted`);
}

/** The next message on `topic` (a filter the client has subscribed to), as text. */
export function nextMessage(client: MqttClient, topic: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(received: string, payload: Buffer): void {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload.toString('utf8'));
    }
    client.on('message', onMessage);
  });
}

/** Resolves when the broker closes the client's connection. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected || !client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/**
 * Enrolls `id` with a fresh token over MQTT and returns its credential (`fld_…`), once the
 * enrolling connection has closed and the registry shows the device offline again.
 */
export async function enroll(hub: MqttTestHub, id: string): Promise<string> {
  const client = await connectDevice(hub.mqttUrl, id, await hub.enrollmentToken());
  let credential: string;
  try {
    const message = nextMessage(client, `flotilla/${id}/credential`);
    await client.subscribeAsync(`flotilla/${id}/credential`, { qos: 1 });
    credential = (JSON.parse(await message) as { credential: string }).credential;
  } finally {
    await client.endAsync();
  }
  await eventually(() => hub.registry.get(id)?.status.online === false, `${id} offline after enrolling`);
  return credential;
}

/**
 * Mapping rules for seed 001's TonyPi robots (`tonypi/<robot_id>/telemetry`,
 * `.../command/request`, `.../command/response`), under `root` so that tests sharing a broker
 * do not hear each other. Their payloads are shaped as a Python fleet would send them.
 */
export function tonypiRule(root = 'tonypi'): Record<string, unknown> {
  return {
    name: 'tonypi',
    devices: 'tonypi-*',
    facts: { type: 'tonypi', model: 'Hiwonder TonyPi', capabilities: [{ name: 'hal.v1.led', version: '1.0.0' }] },
    topics: {
      telemetry: `${root}/{device}/telemetry`,
      status: `${root}/{device}/status`,
      command: `${root}/{device}/command/request`,
      result: `${root}/{device}/command/response`,
    },
    telemetry: { timestamp: 'timestamp', timestampUnit: 's', ignore: ['robot_id'] },
    status: { field: 'status' },
    command: {
      template: { request_id: '{id}', robot_id: '{device}', command: '{capability}.{command}', params: '{args}' },
    },
    result: {
      id: 'request_id',
      result: 'data',
      error: 'message',
      statusValues: { success: 'succeeded', error: 'failed' },
    },
  };
}

/** A TonyPi robot's side of a command: answers every request on its response topic, as `success`. */
export function answerTonypiCommands(client: MqttClient, root: string, id: string): void {
  client.on('message', (topic, payload) => {
    if (topic !== `${root}/${id}/command/request`) return;
    const request = JSON.parse(payload.toString()) as { request_id: string; command: string; params: unknown };
    client.publish(
      `${root}/${id}/command/response`,
      JSON.stringify({
        request_id: request.request_id,
        status: 'success',
        data: { ran: request.command, with: request.params },
      }),
      { qos: 1 },
    );
  });
}
