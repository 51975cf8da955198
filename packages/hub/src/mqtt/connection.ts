import type { Client } from 'aedes';
import { ErrorCodes, type Clock, type Message } from '@flotilla/protocol';
import type { AgentConnection } from '../gateway/session.js';
import type { PeerCertificate } from '../tls/device-certificates.js';
import type { DeviceRoutes } from './routing.js';

/**
 * One MQTT client as the gateway sees it (AgentConnection): the hub's messages become publishes
 * on the device's topics, and the gateway's answer to the `hello` built from CONNECT becomes the
 * CONNACK. The broker (broker.ts) owns the aedes client; this class only translates.
 */

/** CONNACK return codes of MQTT 3.1.1 ([MQTT-3.2.2.3], Table 3.1) the hub uses. */
export const ConnackCodes = {
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;
export type ConnackCode = (typeof ConnackCodes)[keyof typeof ConnackCodes];

/** aedes reads `returnCode` off the error its authenticate callback gets. */
export type ConnectRefusal = Error & { returnCode: ConnackCode };

export function connectRefusal(returnCode: ConnackCode, message: string): ConnectRefusal {
  return Object.assign(new Error(message), { returnCode });
}

/** What the hub's side of the broker does for a connection. */
export interface MqttHubSide {
  /** Where the hub's messages to a device go (its Flotilla topics or its mapping rule's). */
  readonly routes: DeviceRoutes;
  /** Publishes as the hub (to subscribers of `topic`, i.e. the device); resolves once written or dropped. */
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** The CONNECT enrolled the device: its new credential waits for it on its credential topic. */
  credentialIssued(device: string, credential: string): void;
  /** The CONNECT presented the device's credential: nothing waits for it any more. */
  credentialUsed(device: string): void;
}

/** What aedes 1.x's Client has and its type declarations leave out (lib/client.js). */
interface FlowControl {
  pause(): void;
  resume(): void;
  _keepaliveTimer?: NodeJS.Timeout | null;
}

/** How long a closing connection waits for its last publish (the reason it is cut) to be written. */
export const CLOSE_GRACE_MS = 200;

type AuthCallback = (error: ConnectRefusal | null, success: boolean | null) => void;

export class MqttConnection implements AgentConnection {
  /** Topic of the publish the session is reading now: error messages say which publish they refuse. */
  currentTopic: string | undefined;
  private seq = 1;
  private pendingAuth: AuthCallback | undefined;
  /** The `error` code the gateway sent while deciding the CONNECT, if it refused it. */
  private refusal: string | undefined;
  private lastPublish: Promise<void> = Promise.resolve();
  private closing = false;
  private paused = false;

  constructor(
    private readonly client: Client,
    readonly device: string,
    private readonly hub: MqttHubSide,
    private readonly clock: Clock,
    /** The client certificate of an MQTTS connection, when it verified against the hub CA. */
    readonly peerCertificate: PeerCertificate | undefined,
  ) {}

  /** Sequence number of the next frame built from a publish (0 was the hello). */
  nextSeq(): number {
    return this.seq++;
  }

  /** The CONNECT waits for the gateway: `welcome` accepts it, a close refuses it. */
  awaitDecision(callback: AuthCallback): void {
    this.pendingAuth = callback;
  }

  get deciding(): boolean {
    return this.pendingAuth !== undefined;
  }

  send(message: Message): void {
    switch (message.type) {
      case 'welcome': {
        const decide = this.pendingAuth;
        this.pendingAuth = undefined;
        const { credential } = message.payload;
        if (credential !== undefined) this.hub.credentialIssued(this.device, credential);
        else this.hub.credentialUsed(this.device);
        decide?.(null, true);
        return;
      }
      case 'error': {
        if (this.pendingAuth) {
          this.refusal = message.payload.code;
          return;
        }
        const { code, message: text } = message.payload;
        const body =
          this.currentTopic === undefined ? { code, message: text } : { code, message: text, topic: this.currentTopic };
        this.track(this.hub.publish(this.hub.routes.hub('error', this.device), JSON.stringify(body), { qos: 0 }));
        return;
      }
      case 'command': {
        const { topic, payload } = this.hub.routes.command(this.device, message.payload);
        this.track(this.hub.publish(topic, payload, { qos: 1 }));
        return;
      }
      case 'cancel': {
        const { topic, payload } = this.hub.routes.cancel(this.device, message.payload);
        this.track(this.hub.publish(topic, payload, { qos: 1 }));
        return;
      }
      default:
        // `ack` answers heartbeats: MQTT has its own (PINGRESP, PUBACK).
        return;
    }
  }

  /** Refuses a CONNECT still being decided, or closes once the last publish (the reason) is written. */
  close(_code: number, reason: string): void {
    const decide = this.pendingAuth;
    if (decide) {
      this.pendingAuth = undefined;
      decide(connectRefusal(this.refusalCode(), reason), null);
      return;
    }
    if (this.closing) return;
    this.closing = true;
    let timer: { cancel(): void } | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, CLOSE_GRACE_MS);
    });
    void Promise.race([this.lastPublish, grace]).then(() => {
      timer?.cancel();
      this.client.close();
    });
  }

  /** aedes stops parsing the client's packets (its own flow control: the socket is not read). */
  pause(): void {
    this.paused = true;
    (this.client as unknown as FlowControl).pause();
  }

  resume(): void {
    this.paused = false;
    (this.client as unknown as FlowControl).resume();
  }

  /**
   * aedes finished the CONNECT (`clientReady`). It resumes the client at the end of the CONNECT
   * whatever happened meanwhile, so a pause that started during it is applied again.
   */
  ready(): void {
    if (this.paused) (this.client as unknown as FlowControl).pause();
  }

  /**
   * While paused, the device's PINGREQs are not read, and aedes would close the connection after
   * 1.5 keepalive periods ([MQTT-3.1.2-24]) for a silence that is the hub's own doing: its
   * keepalive timer is pushed back instead (aedes refreshes the same timer on every packet).
   */
  keepAlive(): void {
    (this.client as unknown as FlowControl)._keepaliveTimer?.refresh();
  }

  terminate(): void {
    const decide = this.pendingAuth;
    this.pendingAuth = undefined;
    decide?.(connectRefusal(ConnackCodes.SERVER_UNAVAILABLE, 'connection dropped'), null);
    this.client.close();
  }

  /** A wrong secret is "bad user name or password"; a revoked credential or a spent token "not authorized". */
  private refusalCode(): ConnackCode {
    if (this.refusal === ErrorCodes.UNAUTHORIZED || this.refusal === ErrorCodes.BAD_FRAME)
      return ConnackCodes.BAD_USERNAME_OR_PASSWORD;
    if (this.refusal !== undefined) return ConnackCodes.NOT_AUTHORIZED;
    return ConnackCodes.SERVER_UNAVAILABLE;
  }

  private track(publishing: Promise<void>): void {
    this.lastPublish = publishing;
  }
}
