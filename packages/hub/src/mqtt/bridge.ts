import { randomBytes } from 'node:crypto';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, SUBJECT_ROOT, type Clock, type TimerHandle } from '@flotilla/protocol';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import { BRIDGE_TRANSPORT, BridgedDevice, MAX_WAITING, type BridgeSide, type PublishOptions } from './bridge-device.js';
import { helloFacts } from './decode.js';
import type { CompiledRule } from './mapping.js';
import { DeviceRoutes, type RoutedPublish } from './routing.js';
import { DEVICE_PUBLISH_KINDS } from './topics.js';

/**
 * `--mqtt-url`: instead of embedding a broker, the hub is one client of an external one
 * (Mosquitto, EMQX, ...) and serves the devices connected there (docs/mqtt.md, "Bridge mode").
 * It subscribes to every device → hub topic (`flotilla/+/…` and the mapping rules' topics),
 * turns each device it hears from into a gateway session (transport `mqtt-bridge`) and publishes
 * the hub's messages to them on the same topics as the embedded broker.
 *
 * Presence: a retained `online` on a device's status topic (with an `offline` last will) keeps
 * it present until the broker publishes the will; a device heard from without one is present
 * while it keeps publishing (3 heartbeat intervals, as any device).
 *
 * Backpressure: while telemetry storage is behind, the gateway pauses every session (read-pause.ts).
 * A bridged device cannot be paused alone on the hub's one broker connection, so while any is,
 * the bridge stops reading from the broker: mqtt.js's `handleMessage` hook holds the publish in
 * hand, whose PUBACK (QoS 1) and the reading of every packet after it wait until storage caught
 * up. The broker keeps what follows, within its own limits; the hub's memory does not grow.
 *
 * Identity: the external broker authenticates devices, the hub never sees their passwords. The
 * hub admits a device only when it enrolled it (a live credential, `DeviceEnrollment.vouched`);
 * that a publish on `flotilla/<id>/…` really comes from `<id>` is the broker's ACL's to enforce.
 */

export interface MqttBridgeOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://`, with the hub's own username and password if the broker wants them. */
  url: string;
  /** Levels before `flotilla/` on the broker, to share one broker between fleets (`site-a` → `site-a/flotilla/<id>/…`). */
  prefix?: string;
  mappings?: readonly CompiledRule[];
  gateway: AgentGateway;
  clock: Clock;
  logger: Logger;
  /** Presence of devices kept by their retained status is renewed this often (the gateway's heartbeat interval). */
  heartbeatIntervalMs: number;
  /** How long to wait for the broker at start (default 10 s). */
  connectTimeoutMs?: number;
  /** Also trusted PEM CAs for `mqtts://` and `wss://`. */
  ca?: string;
}

/** Topic the hub listens on for enrollment through the bridge: `{"token":"fle_…"}`. */
const ENROLL = 'enroll';

export class MqttBridge implements BridgeSide {
  readonly routes: DeviceRoutes;
  private readonly gateway: AgentGateway;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly devices = new Map<string, BridgedDevice>();
  /** Devices whose hello was refused, until when they are not asked about again (a flood of publishes is one refusal). */
  private readonly refusedUntil = new Map<string, number>();
  private readonly heartbeatIntervalMs: number;
  private readonly presence: TimerHandle;
  /** Devices the gateway paused: while any is, nothing more is read from the broker. */
  private readonly pausedBy = new Set<BridgedDevice>();
  /** mqtt.js's callback for the publish in hand while paused: its PUBACK, then the next packet. */
  private held: (() => void) | undefined;
  private pausedAt: number | undefined;
  private pingedAt = -Infinity;
  private closed = false;

  private constructor(
    private readonly client: MqttClient,
    options: MqttBridgeOptions,
  ) {
    this.routes = new DeviceRoutes(options.mappings ?? [], options.prefix ?? '');
    this.gateway = options.gateway;
    this.clock = options.clock;
    this.log = options.logger;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    client.on('message', (topic, payload, packet) => this.received(topic, payload, packet));
    // mqtt.js's backpressure hook: called after each publish's 'message'; until it calls back,
    // mqtt.js neither acknowledges that publish nor reads the next packet.
    client.handleMessage = (_packet, callback) => {
      if (this.pausedBy.size === 0 || this.closed) return callback();
      this.held = () => callback();
    };
    // The broker is gone: what the hub knew of its devices' presence is gone with it. They come
    // back with the retained statuses once it reconnects (and resubscribes).
    client.on('close', () => {
      // The held publish belonged to that connection: its PUBACK must not go out on the next one.
      this.held = undefined;
      this.endAll();
    });
    client.on('error', (err) => this.log.warn({ err }, 'MQTT bridge: broker connection error'));
    client.on('reconnect', () => this.log.info('MQTT bridge: reconnecting to the broker'));
    client.on('connect', () => this.log.info('MQTT bridge: connected to the broker'));
    this.presence = this.clock.setInterval(() => this.renewPresence(), Math.max(1000, this.heartbeatIntervalMs / 2));
  }

  /** Connects and subscribes; rejects when the broker cannot be reached or refuses the hub. */
  static async connect(options: MqttBridgeOptions): Promise<MqttBridge> {
    // Loaded only in bridge mode: mqtt.js takes most of a second to import on a busy machine.
    const { connect } = await import('mqtt');
    const client = connect(options.url, {
      clientId: `flotilla-hub-${randomBytes(6).toString('hex')}`,
      // MQTT 5, so commands carry a response topic and correlation data; the broker must speak it.
      protocolVersion: 5,
      // [MQTT-3.1.2-24]: the broker must not send the hub a packet above this; it drops the
      // message for the hub instead. A device's oversize publish never reaches the hub's memory.
      properties: { maximumPacketSize: MAX_FRAME_BYTES + 64 * 1024 },
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      ...(options.ca !== undefined && { ca: options.ca }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no answer from the broker')),
          (options.connectTimeoutMs ?? 10_000) + 1000,
        );
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        client.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const bridge = new MqttBridge(client, options);
      await client.subscribeAsync(bridge.filters(), { qos: 1 });
      return bridge;
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
  }

  /** The device → hub topics, with `+` for every device. */
  private filters(): string[] {
    const own = [...DEVICE_PUBLISH_KINDS, ENROLL].flatMap((kind) => {
      const base = this.routes.external(`${SUBJECT_ROOT}/+/${kind}`);
      return kind === 'telemetry' ? [base, `${base}/+`] : kind === 'event' ? [`${base}/+`] : [base];
    });
    const mapped = this.routes.rules.flatMap((rule) =>
      DEVICE_PUBLISH_KINDS.flatMap((kind) => {
        const levels = rule.topics[kind];
        return levels ? [levels.map((l) => ('literal' in l ? l.literal : '+')).join('/')] : [];
      }),
    );
    return [...own, ...mapped];
  }

  /** Ends every bridged session and disconnects from the broker. Call after the gateway ended its sessions. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.presence.cancel();
    // What is in hand went to the gateway before it was held: acknowledge it, and let mqtt.js finish.
    const held = this.held;
    this.held = undefined;
    held?.();
    this.endAll();
    await this.client.endAsync();
  }

  // ---- from the broker ---------------------------------------------------------------------------

  private received(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.closed) return;
    const device = this.routes.deviceOf(topic);
    if (device === undefined) return;
    if (this.routes.external(`${SUBJECT_ROOT}/${device}/${ENROLL}`) === topic) return this.enroll(device, payload);
    const verdict = this.routes.publish(device, topic);
    if (!verdict.ok) return;
    const routed = verdict.value;
    // A retained publish is old news, except a device's status: that is how presence survives
    // the hub's restarts and the broker's reconnections.
    if (packet.retain && routed.topic.kind !== 'status') return;
    const correlation = packet.properties?.correlationData?.toString('utf8');
    let bridged = this.devices.get(device);
    // A status that states facts, for a session that did not start with one: the device's
    // announcement, as a new connection's last will would be on the embedded broker.
    if (bridged && !bridged.statusOnline && routed.topic.kind === 'status' && hasFacts(payload)) {
      bridged.terminate();
      bridged = undefined;
    }
    if (!bridged) {
      if (routed.topic.kind === 'status') return this.statusOfUnknown(device, routed, payload);
      if (this.refusedNow(device)) return;
      bridged = this.open(device, { statusOnline: false, facts: {} });
    }
    if (bridged.state === 'deciding') {
      if (bridged.waiting.length < MAX_WAITING) bridged.waiting.push({ routed, payload, correlation });
      else this.gateway.countFrameError('rate_limited');
      return;
    }
    this.deliver(bridged, routed, payload, correlation);
  }

  /** A status from a device without a session: `online` opens one, held present by that status. */
  private statusOfUnknown(device: string, routed: RoutedPublish, payload: Buffer): void {
    const decoded = this.routes.decode(routed, payload, 0, this.clock.now());
    if (!('frame' in decoded) || this.refusedNow(device)) return;
    // The status may state the device's facts like a last will does ({"state":"online","type":…}).
    this.open(device, { statusOnline: true, facts: helloFacts(payload) });
  }

  private enroll(device: string, payload: Buffer): void {
    if (this.devices.get(device)?.state === 'active') return;
    let token: unknown;
    try {
      token = (JSON.parse(payload.toString('utf8')) as { token?: unknown }).token;
    } catch {
      return;
    }
    if (typeof token !== 'string' || token.length > 512) return;
    this.devices.get(device)?.terminate();
    this.refusedUntil.delete(device);
    this.open(device, { statusOnline: false, facts: {}, token });
  }

  private open(
    device: string,
    options: { statusOnline: boolean; facts: ReturnType<typeof helloFacts>; token?: string },
  ): BridgedDevice {
    const bridged = new BridgedDevice(device, this, {
      statusOnline: options.statusOnline,
      enrolling: options.token !== undefined,
    });
    this.devices.set(device, bridged);
    bridged.session = this.gateway.open(bridged, BRIDGE_TRANSPORT);
    const hello = {
      ...this.routes.ruleFor(device)?.rule.facts,
      ...options.facts,
      ...(options.token !== undefined && { token: options.token }),
    };
    bridged.session.receive(
      JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', device, seq: 0, ts: this.clock.now(), payload: hello }),
    );
    return bridged;
  }

  private deliver(bridged: BridgedDevice, routed: RoutedPublish, payload: Buffer, correlation?: string): void {
    const decoded = this.routes.decode(routed, payload, bridged.nextSeq(), this.clock.now(), correlation);
    if ('frame' in decoded) {
      if (routed.topic.kind === 'status') bridged.statusOnline = true;
      bridged.session.receive(decoded.frame);
    } else if ('offline' in decoded) bridged.close(1000, 'offline');
    else if ('error' in decoded) {
      this.gateway.countFrameError(decoded.error.code);
      bridged.session.send('error', decoded.error);
    }
  }

  // ---- BridgeSide --------------------------------------------------------------------------------

  publish(topic: string, payload: string, options: PublishOptions): void {
    if (this.closed) return;
    const properties = this.client.options.protocolVersion === 5 ? options.properties : undefined;
    this.client.publish(topic, payload, { qos: options.qos, ...(properties && { properties }) }, (err) => {
      if (err) this.log.warn({ err, topic }, 'MQTT bridge: publish to a device failed');
    });
  }

  pause(bridged: BridgedDevice): void {
    if (this.pausedBy.size === 0) {
      this.pausedAt = this.clock.now();
      this.log.info('telemetry storage is behind: the MQTT bridge stops reading from the broker until it catches up');
    }
    this.pausedBy.add(bridged);
  }

  resume(bridged: BridgedDevice): void {
    if (!this.pausedBy.delete(bridged) || this.pausedBy.size > 0) return;
    this.log.info(
      { pausedMs: this.clock.now() - (this.pausedAt ?? this.clock.now()) },
      'the MQTT bridge reads from the broker again',
    );
    this.pausedAt = undefined;
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  /**
   * The broker must keep hearing from the hub while it reads nothing, and mqtt.js cannot read
   * the PINGRESP meanwhile: ping, and start its keepalive count again (called for every paused
   * device, so at most once in a quarter heartbeat interval).
   */
  keepAlive(): void {
    const now = this.clock.now();
    if (this.closed || !this.client.connected || now - this.pingedAt < this.heartbeatIntervalMs / 4) return;
    this.pingedAt = now;
    this.client.sendPing();
    this.client.reschedulePing(true);
  }

  /** True while a publish is held: the bridge reads nothing more from the broker. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  admitted(bridged: BridgedDevice): void {
    for (const { routed, payload, correlation } of bridged.waiting.splice(0)) {
      if (bridged.state !== 'active') return;
      this.deliver(bridged, routed, payload, correlation);
    }
  }

  ended(bridged: BridgedDevice, refusal: string | undefined): void {
    if (this.devices.get(bridged.device) === bridged) this.devices.delete(bridged.device);
    if (refusal !== undefined) this.refusedUntil.set(bridged.device, this.clock.now() + this.heartbeatIntervalMs);
    this.gateway.release(bridged.session);
  }

  // ---- internals ---------------------------------------------------------------------------------

  private refusedNow(device: string): boolean {
    const until = this.refusedUntil.get(device);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.refusedUntil.delete(device);
    return false;
  }

  /** Devices present by their retained status count as heard from: the broker watches their keepalive. */
  private renewPresence(): void {
    for (const bridged of this.devices.values())
      if (bridged.state === 'active' && bridged.statusOnline) this.gateway.touch(bridged.session, bridged.device);
  }

  private endAll(): void {
    for (const bridged of [...this.devices.values()]) bridged.terminate();
  }
}

function hasFacts(payload: Buffer): boolean {
  return Object.keys(helloFacts(payload)).length > 0;
}
