import type { Message } from '@flotilla/protocol';
import type { AgentConnection, DeviceSession } from '../gateway/session.js';
import type { DeviceRoutes, RoutedPublish } from './routing.js';

/**
 * One device seen through the bridge (bridge.ts) as the gateway sees it: an AgentConnection
 * with no socket of its own. The hub's messages to it become publishes on the external broker;
 * "closing" it only ends the session, since the broker, not the hub, holds the device's
 * connection. Publishes that arrive while its `hello` is being decided wait here, in order.
 */

/** The transport of bridged sessions (metrics, events, and the hub's `hello` authentication). */
export const BRIDGE_TRANSPORT = 'mqtt-bridge';

/** What the bridge does for its devices. */
export interface BridgeSide {
  readonly routes: DeviceRoutes;
  publish(topic: string, payload: string, options: PublishOptions): void;
  /** The session has ended (whoever ended it): the bridge forgets the device and releases the session. */
  ended(device: BridgedDevice, refusal: string | undefined): void;
  /** The session became active: the publishes that waited go to it now. */
  admitted(device: BridgedDevice): void;
  /** The gateway paused the device (telemetry storage behind): the bridge stops reading while any is paused. */
  pause(device: BridgedDevice): void;
  /** The device is not paused any more (resumed, or its session ended). */
  resume(device: BridgedDevice): void;
  /** While paused: keep the broker connection alive. */
  keepAlive(): void;
}

export interface PublishOptions {
  qos: 0 | 1;
  /** MQTT 5: where and with what the device answers (`responseTopic`, `correlationData`). */
  properties?: { responseTopic: string; correlationData: Buffer };
}

/** A publish waiting for the session to be admitted. */
export interface Waiting {
  routed: RoutedPublish;
  payload: Buffer;
  correlation: string | undefined;
}

/** Publishes kept per device while its hello is decided; more are dropped (and counted as rate_limited). */
export const MAX_WAITING = 100;

export class BridgedDevice implements AgentConnection {
  session!: DeviceSession;
  state: 'deciding' | 'active' | 'ended' = 'deciding';
  /** Opened by a retained `online` status: present until `offline` (the last will), not until silent. */
  statusOnline: boolean;
  readonly waiting: Waiting[] = [];
  private seq = 1;
  /** The `error` code the gateway answered the hello with, if it refused it. */
  private refusal: string | undefined;

  /** Opened by a publish on `flotilla/<id>/enroll`: ends once the credential is sent. */
  readonly enrolling: boolean;

  constructor(
    readonly device: string,
    private readonly bridge: BridgeSide,
    options: { statusOnline: boolean; enrolling: boolean },
  ) {
    this.statusOnline = options.statusOnline;
    this.enrolling = options.enrolling;
  }

  nextSeq(): number {
    return this.seq++;
  }

  send(message: Message): void {
    if (this.state === 'ended') return;
    const { routes } = this.bridge;
    switch (message.type) {
      case 'welcome': {
        this.state = 'active';
        const { credential } = message.payload;
        // Enrolled through the bridge (flotilla/<id>/enroll): the device learns its credential
        // the way it would from the embedded broker, for when it connects to a hub directly.
        if (credential !== undefined) {
          this.bridge.publish(routes.hub('credential', this.device), JSON.stringify({ credential }), { qos: 1 });
          // Enrolling is not being online: the device says that with its status, and its facts with it.
          if (this.enrolling) return this.end();
        }
        this.bridge.admitted(this);
        return;
      }
      case 'error': {
        if (this.state === 'deciding') {
          this.refusal = message.payload.code;
          return;
        }
        this.bridge.publish(routes.hub('error', this.device), JSON.stringify(message.payload), { qos: 0 });
        return;
      }
      case 'command': {
        const { topic, payload } = routes.command(this.device, message.payload);
        // MQTT 5 devices may answer on the response topic with the correlation data alone;
        // MQTT 3.1.1 devices ignore both and answer with the command's id in the payload.
        const responseTopic = routes.resultTopic(this.device);
        this.bridge.publish(topic, payload, {
          qos: 1,
          properties: { responseTopic, correlationData: Buffer.from(message.payload.id) },
        });
        return;
      }
      case 'cancel': {
        const { topic, payload } = routes.cancel(this.device, message.payload);
        this.bridge.publish(topic, payload, { qos: 1 });
        return;
      }
      default:
        // `ack` of heartbeats: the external broker answers the device's own keepalive.
        return;
    }
  }

  /**
   * Telemetry backpressure (the gateway's read pause): one device cannot be paused on the hub's
   * single broker connection, so the bridge stops reading from the broker while any is.
   */
  pause(): void {
    if (this.state !== 'ended') this.bridge.pause(this);
  }

  resume(): void {
    this.bridge.resume(this);
  }

  keepAlive(): void {
    this.bridge.keepAlive();
  }

  /** Ends the session; the device's own connection to the broker is not the hub's to close. */
  close(_code: number, _reason: string): void {
    this.end();
  }

  terminate(): void {
    this.end();
  }

  private end(): void {
    if (this.state === 'ended') return;
    const refusal = this.state === 'deciding' ? this.refusal : undefined;
    this.state = 'ended';
    this.waiting.length = 0;
    // An ended session holds the bridge paused no more.
    this.bridge.resume(this);
    // The gateway calls close() from inside its own bookkeeping: release the session after it.
    queueMicrotask(() => this.bridge.ended(this, refusal));
  }
}
