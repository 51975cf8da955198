import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  Aedes,
  type AedesPublishPacket,
  type Client,
  type ConnectPacket,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import { ErrorCodes, MAX_FRAME_BYTES, envelope, isDeviceId, type Clock } from '@flotilla/protocol';
import type { SecurityEvent } from '../enrollment/security.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import { verifiedPeer } from '../gateway/ws-agent.js';
import type { PeerCertificate } from '../tls/device-certificates.js';
import type { DeviceSession } from '../gateway/session.js';
import { ConnackCodes, MqttConnection, connectRefusal, type ConnectRefusal, type MqttHubSide } from './connection.js';
import { helloFacts } from './decode.js';
import type { CompiledRule } from './mapping.js';
import { limitPacketSize } from './packet-limit.js';
import { DeviceRoutes } from './routing.js';
import type { TopicVerdict } from './topics.js';

/**
 * The hub's embedded MQTT broker (aedes, MQTT 3.1 and 3.1.1). Every connection is a device
 * session of the AgentGateway (transport `mqtt`): CONNECT is the `hello` (username = device id,
 * password = its credential or an enrollment token), publishes become protocol frames checked
 * by the session, and the hub's messages to the device become publishes on its topics. The
 * access rules are aedes's hooks: authenticate, authorizePublish, authorizeSubscribe and
 * authorizeForward (docs/mqtt.md).
 */

export interface MqttTlsOptions {
  key: string;
  cert: string;
  ca: string;
}

export interface MqttBrokerOptions {
  gateway: AgentGateway;
  clock: Clock;
  logger: Logger;
  /** Refused publishes and subscriptions (`device_mismatch`, `forbidden_topic`). */
  onSecurityEvent?: (event: SecurityEvent) => void;
  /** Largest packet (its Remaining Length) a client may send; default MAX_FRAME_BYTES. */
  maxPacketBytes?: number;
  /** Topic mapping rules (mapping.ts): devices they apply to may use their legacy topics. */
  mappings?: readonly CompiledRule[];
}

/** What the broker keeps per authenticated client. */
interface Link {
  session: DeviceSession;
  connection: MqttConnection;
}

/** A topic or filter as it may appear in logs and events: bounded. */
function shown(topic: string): string {
  return topic.length > 256 ? `${topic.slice(0, 256)}…` : topic;
}

export class MqttBroker {
  private readonly aedes: Aedes;
  private readonly gateway: AgentGateway;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onSecurityEvent: MqttBrokerOptions['onSecurityEvent'];
  private readonly maxPacketBytes: number;
  private readonly routes: DeviceRoutes;
  private readonly hubSide: MqttHubSide;
  private readonly links = new WeakMap<Client, Link>();
  /** CONNECT packets by client, between preConnect and authenticate (aedes gives the latter no packet). */
  private readonly connects = new WeakMap<Client, ConnectPacket>();
  /** Sessions that already had a refusal recorded (recorded once per session, counted every time). */
  private readonly reported = new WeakSet<DeviceSession>();
  /** Verified client certificates of MQTTS (or WSS) connections, by client. */
  private readonly peers = new WeakMap<Client, PeerCertificate>();
  /** Devices whose new credential waits, retained, on their credential topic. */
  private readonly pendingCredentials = new Set<string>();
  private readonly servers = new Set<Server>();
  /** Open connections, authenticated or not: closing the hub must not wait for a silent one's CONNECT timeout. */
  private readonly streams = new Set<Duplex>();
  private closing: Promise<void> | undefined;

  private constructor(options: MqttBrokerOptions, aedes: Aedes) {
    this.aedes = aedes;
    this.gateway = options.gateway;
    this.clock = options.clock;
    this.log = options.logger;
    this.onSecurityEvent = options.onSecurityEvent;
    this.maxPacketBytes = options.maxPacketBytes ?? MAX_FRAME_BYTES;
    this.routes = new DeviceRoutes(options.mappings ?? []);
    this.hubSide = this.hubSideOf(this.routes);
    aedes.preConnect = (client, packet, done) => this.preConnect(client, packet, done);
    aedes.authenticate = (client, username, password, done) => this.authenticate(client, username, password, done);
    aedes.authorizePublish = (client, packet, done) => this.authorizePublish(client, packet, done);
    aedes.authorizeSubscribe = (client, subscription, done) => this.authorizeSubscribe(client, subscription, done);
    aedes.authorizeForward = (client, packet) => this.authorizeForward(client, packet);
    aedes.published = (packet, client, done) => {
      this.published(packet, client);
      done();
    };
    aedes.on('ping', (_packet, client) => {
      const link = this.links.get(client);
      if (link?.session.state === 'active') this.gateway.touch(link.session, link.connection.device);
    });
    aedes.on('clientReady', (client) => this.links.get(client)?.connection.ready());
    aedes.on('clientError', (client, err) =>
      this.log.debug({ err, device: this.links.get(client)?.connection.device }, 'MQTT client error'),
    );
    aedes.on('connectionError', (_client, err) => this.log.debug({ err }, 'MQTT connection error'));
  }

  static async create(options: MqttBrokerOptions): Promise<MqttBroker> {
    // Sessions, retained messages and QoS 1 queues live in the broker's memory (aedes-persistence):
    // only what devices are sent is kept there, never what they publish (see authorizePublish).
    const aedes = await Aedes.createBroker({ connectTimeout: 10_000, drainTimeout: 30_000 });
    return new MqttBroker(options, aedes);
  }

  /**
   * Serves one client connection: a TCP or TLS socket, or the stream of a WebSocket on `/mqtt`
   * (with `peer`, the client certificate of its TLS socket when it verified against the hub CA).
   */
  handle(stream: Duplex, peer?: PeerCertificate): void {
    const limited = limitPacketSize(stream, this.maxPacketBytes, (verdict, announced) => {
      this.gateway.countFrameError(verdict === 'too_large' ? ErrorCodes.FRAME_TOO_LARGE : ErrorCodes.BAD_FRAME);
      this.log.debug({ verdict, announced, limit: this.maxPacketBytes }, 'MQTT packet refused, connection closed');
    });
    const client = this.aedes.handle(limited);
    if (peer) this.peers.set(client, peer);
    this.streams.add(limited);
    limited.once('close', () => {
      this.streams.delete(limited);
      const link = this.links.get(client);
      if (!link) return;
      this.links.delete(client);
      this.gateway.release(link.session);
    });
  }

  /**
   * Listens for MQTT (or MQTTS with `tls`) on `port` (0: a free one); resolves with the port
   * bound. Rejects with the listen error (`EADDRINUSE`, ...) as Node reports it.
   */
  async listen(options: { port: number; host: string; tls?: MqttTlsOptions | undefined }): Promise<number> {
    const onConnection = (socket: Socket): void => {
      // No Nagle: a command or an ack is one small packet, and holding it until the device ACKs
      // the previous one (which the device delays up to 40 ms) cost every MQTT command ~40 ms.
      socket.setNoDelay(true);
      this.handle(socket, verifiedPeer(socket));
    };
    // MQTTS asks for a client certificate like HTTPS does, but lets devices without one in (they
    // enroll first); the gateway checks one that verified against the hub CA (docs/security.md).
    const server = options.tls
      ? createTlsServer(
          {
            key: options.tls.key,
            cert: options.tls.cert,
            ca: options.tls.ca,
            requestCert: true,
            rejectUnauthorized: false,
            minVersion: 'TLSv1.2',
          },
          onConnection,
        )
      : createTcpServer(onConnection);
    // A client that breaks the TLS handshake is its own problem, not the hub's.
    server.on('tlsClientError', (err: Error) => this.log.debug({ err }, 'MQTTS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'MQTT listener error'));
    this.servers.add(server);
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : options.port;
  }

  /** Stops listening and closes every client. Call after the gateway has ended its sessions. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const stopped = [...this.servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const stream of this.streams) stream.destroy();
      await Promise.all(stopped);
    })();
    return this.closing;
  }

  /** The device's credential was revoked: a credential still waiting for it is withdrawn. */
  credentialRevoked(device: string): void {
    if (this.pendingCredentials.delete(device))
      void this.publish(this.routes.hub('credential', device), '', { qos: 0, retain: true });
  }

  // ---- aedes hooks -----------------------------------------------------------------------------

  private preConnect(
    client: Client,
    packet: ConnectPacket,
    done: (error: Error | null, success: boolean) => void,
  ): void {
    this.connects.set(client, packet);
    // MQTT sessions are keyed by device id, not by the client id the device chose: otherwise any
    // device could take over another's MQTT session by reusing its client id ([MQTT-3.1.4-2]).
    if (typeof packet.username === 'string' && isDeviceId(packet.username)) packet.clientId = packet.username;
    done(null, true);
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: ConnectRefusal | null, success: boolean | null) => void,
  ): void {
    const packet = this.connects.get(client);
    this.connects.delete(client);
    if (username === undefined || !isDeviceId(username)) {
      return done(connectRefusal(ConnackCodes.BAD_USERNAME_OR_PASSWORD, 'the username must be the device id'), null);
    }
    const will = packet?.will;
    if (will && !this.routes.publish(username, will.topic).ok) {
      return done(
        connectRefusal(ConnackCodes.NOT_AUTHORIZED, 'the last will must be on the device’s own topics'),
        null,
      );
    }
    const connection = new MqttConnection(client, username, this.hubSide, this.clock, this.peers.get(client));
    const session = this.gateway.open(connection, 'mqtt');
    this.links.set(client, { session, connection });
    connection.awaitDecision(done);
    const hello = {
      ...this.routes.ruleFor(username)?.rule.facts,
      ...helloFacts(will && this.routes.isStatus(username, will.topic) ? will.payload : undefined),
      ...(password !== undefined && { token: password.toString('utf8') }),
    };
    session.receive(JSON.stringify(envelope('hello', username, 0, this.clock.now(), hello)));
    // A hello the session refused outright (a password it cannot even read as a token) is never
    // decided by the gateway: refuse the CONNECT here.
    if (session.state === 'awaiting_hello' && connection.deciding) connection.close(0, 'malformed credentials');
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const link = client ? this.links.get(client) : undefined;
    // A will left over from a connection the broker no longer knows has no device to speak for.
    if (!link) return done(new Error('not an authenticated device'));
    const verdict = this.routes.publish(link.connection.device, packet.topic);
    if (!verdict.ok) {
      this.refused(link, verdict, 'publish', packet.topic);
      // [MQTT-3.3.5-2]: the server either acknowledges a refused PUBLISH as if it were accepted or
      // closes the connection. It closes it: nothing is delivered and the device learns at once.
      return done(new Error(`publish refused on ${shown(packet.topic)}`));
    }
    // What devices publish is the hub's to read, not the broker's to keep: retained publishes
    // would let a device fill the broker's memory, and no one else can subscribe to them.
    packet.retain = false;
    done(null);
  }

  private authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const link = this.links.get(client);
    if (!link) return done(null, null);
    const verdict = this.routes.subscribe(link.connection.device, subscription.topic);
    if (verdict.ok) return done(null, subscription);
    this.refused(link, verdict, 'subscribe', subscription.topic);
    // [MQTT-3.9.3]: return code 0x80 for this filter; the others of the SUBSCRIBE stand.
    done(null, null);
  }

  /** Defence in depth: a device receives nothing outside its own topics, whoever published it. */
  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const link = this.links.get(client);
    return link && this.routes.deliverable(link.connection.device, packet.topic) ? packet : null;
  }

  /** An authorized publish by a device (or its last will): to the session as a protocol frame. */
  private published(packet: AedesPublishPacket, client: Client | null): void {
    const link = client ? this.links.get(client) : undefined;
    if (!link || !client) return;
    const { session, connection } = link;
    const verdict = this.routes.publish(connection.device, packet.topic);
    if (!verdict.ok) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const decoded = this.routes.decode(verdict.value, payload, connection.nextSeq(), this.clock.now());
    connection.currentTopic = packet.topic;
    try {
      if ('frame' in decoded) session.receive(decoded.frame);
      else if ('offline' in decoded) client.close();
      else if ('error' in decoded) {
        this.gateway.countFrameError(decoded.error.code);
        session.send('error', decoded.error);
      }
    } finally {
      connection.currentTopic = undefined;
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private refused(
    link: Link,
    verdict: Exclude<TopicVerdict<unknown>, { ok: true }>,
    action: 'publish' | 'subscribe',
    topic: string,
  ): void {
    const { session, connection } = link;
    this.gateway.countFrameError(verdict.code);
    const repeat = this.reported.has(session);
    this.reported.add(session);
    const base = { repeat, device: connection.device, transport: session.transport, sessionId: session.sessionId };
    this.onSecurityEvent?.(
      verdict.code === ErrorCodes.DEVICE_MISMATCH
        ? { ...base, kind: verdict.code, claimed: verdict.claimed }
        : { ...base, kind: verdict.code, action, topic: shown(topic) },
    );
    if (action === 'subscribe') {
      connection.currentTopic = topic;
      session.send('error', {
        code: verdict.code,
        message: `a device may subscribe only to its own cmd/#, credential and error topics, not ${shown(topic)}`,
      });
      connection.currentTopic = undefined;
    }
  }

  private publish(topic: string, payload: string, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    return new Promise((resolve) => {
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.from(payload),
          qos: options.qos,
          retain: options.retain ?? false,
          dup: false,
        },
        (err) => {
          if (err) this.log.warn({ err, topic: shown(topic) }, 'MQTT publish to a device failed');
          resolve();
        },
      );
    });
  }

  private hubSideOf(routes: DeviceRoutes): MqttHubSide {
    return {
      routes,
      publish: (topic, payload, options) => this.publish(topic, payload, options),
      credentialIssued: (device, credential) => {
        // Retained in the broker's memory, on a topic only this device may subscribe to: it gets
        // the credential when it subscribes after CONNACK, and it is withdrawn once the device
        // connects with it (or it is revoked). Never logged.
        this.pendingCredentials.add(device);
        void this.publish(this.routes.hub('credential', device), JSON.stringify({ credential }), {
          qos: 1,
          retain: true,
        });
      },
      credentialUsed: (device) => {
        if (this.pendingCredentials.delete(device))
          void this.publish(this.routes.hub('credential', device), '', { qos: 0, retain: true });
      },
    };
  }
}
