import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import {
  ErrorCodes,
  systemClock,
  type Clock,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadOf,
  type TelemetryRecord,
} from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { HelloAuthRequest, HelloAuthResult } from '../enrollment/service.js';
import type { SecurityEvent } from '../enrollment/security.js';
import type { TelemetryIngest } from '../telemetry/ingest.js';
import { ReadPause } from './read-pause.js';
import { TelemetryAcks } from './telemetry-acks.js';
import type { LogIngest } from '../logs/ingest.js';
import { logLineView } from '../logs/view.js';
import type { HubMetrics } from '../metrics.js';
import { Presence } from '../presence/presence.js';
import { DisconnectReasons, type DisconnectReason } from '../registry/projection.js';
import { SYSTEM_ACTOR, type Registry } from '../registry/registry.js';
import {
  AgentCloseCodes,
  DeviceSession,
  type AgentConnection,
  type MessageLimit,
  type SessionHost,
} from './session.js';

/**
 * The device side of the hub, independent of the transport: sessions by device, what each
 * message type does, presence, and how sessions end. The WebSocket route (ws-agent.ts) only
 * adapts sockets to `AgentConnection` and feeds frames in.
 *
 * How a session ends, and what the log says:
 * - the connection closes → DeviceDisconnected {reason: 'socket_closed'} at once;
 * - nothing received for 3 heartbeat intervals → {reason: 'heartbeat_timeout'}, socket dropped;
 * - a second connection says `hello` for the same device → the older one gets an `error` frame
 *   `replaced` and is closed (4000) with no DeviceDisconnected: the device never went offline, and
 *   the new session's DeviceConnected carries `replacedSessionId`;
 * - the device is decommissioned → the registry writes the events, the socket is closed (4001);
 * - the hub shuts down (`close()`) → {reason: 'hub_shutdown'}, sockets closed with 1001;
 * - the device's credential is revoked → {reason: 'credential_revoked'}, an `error` frame
 *   `credential_revoked`, then the socket is closed (4004);
 * - the session's numbered telemetry cannot be acknowledged in order → {reason: 'storage_failed'}
 *   (closed with 1011) or {reason: 'rate_limited'} (a frame refused unread; 1008): the device
 *   sends it again on its next session (telemetry-acks.ts).
 *
 * While the telemetry ingest is `full`, no device connection is read (read-pause.ts).
 *
 * With `authenticate` set, a `hello` is accepted only once its token checks out; until then the
 * session has claimed the id but is not the device's (it replaces no session and keeps nothing
 * present). A refused hello gets an `error` frame with the code and the socket is closed (4003).
 */

export interface AgentGatewayOptions {
  registry: Registry;
  bus: Bus;
  metrics?: HubMetrics;
  clock?: Clock;
  logger?: Logger;
  /** Told to devices in `welcome`; offline after 3 missed intervals (default 30000). */
  heartbeatIntervalMs?: number;
  /** Reported in `welcome`. */
  hubVersion: string;
  /**
   * Messages per second per device connection (default DEFAULT_MESSAGE_LIMIT; null: no limit).
   * Frames over it get an `error` frame `rate_limited` and are not processed.
   */
  messageLimit?: MessageLimit | null;
  /**
   * Decides each `hello` from its token (device credential or enrollment token). Absent: every
   * hello is accepted, as in tests of the gateway alone.
   */
  authenticate?: (request: HelloAuthRequest) => Promise<HelloAuthResult>;
  /** Told of refused hellos and of frames speaking for another device. */
  onSecurityEvent?: (event: SecurityEvent) => void;
  /** Where telemetry is stored; absent: telemetry only updates the registry and the bus. */
  ingest?: Pick<TelemetryIngest, 'submit' | 'pressure' | 'on' | 'off'>;
  /** How long telemetry acks wait to be batched (ms, default 5; see TelemetryAcks). */
  telemetryAckDelayMs?: number;
  /**
   * Where device logs are stored; absent: log frames are only published on the bus. With it, a
   * line is published once stored (with its id), and a refused line gets a `log_refused` error.
   */
  logs?: Pick<LogIngest, 'submit'>;
}

/** A command's outcome as a device reported it; command routing subscribes to these. */
export interface ResultReport {
  device: string;
  sessionId: string;
  /** Device clock of the frame. */
  ts: number;
  result: PayloadOf<'result'>;
}

/** An `error` frame a device sent (it refused something the hub sent it). */
export interface DeviceErrorReport {
  device: string;
  sessionId: string;
  error: PayloadOf<'error'>;
}

/** How far a device says a running command (a job) has got. */
export interface ProgressReport {
  device: string;
  sessionId: string;
  progress: PayloadOf<'progress'>;
}

export interface AgentGatewayEvents {
  result: [ResultReport];
  progress: [ProgressReport];
  deviceError: [DeviceErrorReport];
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * 100 messages/s sustained, 200 at once: far above what an agent sends (a heartbeat every 30 s,
 * telemetry a few times a second, batched), low enough that one runaway device cannot take the
 * hub's CPU from the rest of the fleet.
 */
export const DEFAULT_MESSAGE_LIMIT: MessageLimit = { rate: 100, burst: 200 };

type Handler<T extends MessageType> = (session: DeviceSession, id: string, message: MessageOf<T>) => void;

export class AgentGateway extends EventEmitter<AgentGatewayEvents> implements SessionHost {
  readonly presence: Presence;
  readonly heartbeatIntervalMs: number;
  readonly messageLimit: MessageLimit | undefined;
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly registry: Registry;
  private readonly bus: Bus;
  private readonly metrics: HubMetrics | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hubVersion: string;
  private readonly authenticate: AgentGatewayOptions['authenticate'];
  private readonly onSecurityEvent: AgentGatewayOptions['onSecurityEvent'];
  private readonly ingest: AgentGatewayOptions['ingest'];
  /** Numbered telemetry: stored, then acknowledged in batches (absent without an ingest). */
  private readonly acks: TelemetryAcks | undefined;
  /** Stops reading device connections while the ingest is `full`. */
  private readonly readPause: ReadPause;
  private readonly logs: AgentGatewayOptions['logs'];
  private readonly unhook: () => void;
  /** Sessions that already sent a frame for another device (recorded once per session). */
  private readonly mismatched = new WeakSet<DeviceSession>();
  /** Registry writes started by sessions, so `close()` can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();
  private open_ = 0;
  private closing = false;

  constructor(options: AgentGatewayOptions) {
    super();
    this.registry = options.registry;
    this.bus = options.bus;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? pino({ enabled: false });
    this.hubVersion = options.hubVersion;
    this.authenticate = options.authenticate;
    this.onSecurityEvent = options.onSecurityEvent;
    this.ingest = options.ingest;
    if (options.ingest) {
      this.acks = new TelemetryAcks({
        ingest: options.ingest,
        logger: this.log,
        ...(options.telemetryAckDelayMs !== undefined && { ackDelayMs: options.telemetryAckDelayMs }),
        send: (session, ack) => {
          if (session.state === 'active') session.send('ack', ack);
        },
        endSession: (session, why) =>
          this.endTelemetrySession(session, DisconnectReasons.STORAGE_FAILED, AgentCloseCodes.INTERNAL_ERROR, why),
      });
    }
    this.logs = options.logs;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.messageLimit = options.messageLimit === null ? undefined : (options.messageLimit ?? DEFAULT_MESSAGE_LIMIT);
    this.presence = new Presence({ clock: this.clock, heartbeatIntervalMs: this.heartbeatIntervalMs });
    this.readPause = new ReadPause({
      clock: this.clock,
      presence: this.presence,
      // Twice per interval: an agent declares the hub dead after 3 intervals without a frame.
      keepAliveMs: Math.max(100, Math.floor(this.heartbeatIntervalMs / 2)),
      metrics: this.metrics,
    });
    const unhookDisconnects = this.registry.onDisconnectRequest((id) => this.decommissioned(id));
    const unhookTakeovers = this.registry.onTakeover((id, sessionId) => this.takenOver(id, sessionId));
    const ingest = options.ingest;
    const onPressure = (pressure: 'ok' | 'full'): void => {
      if (pressure === 'full') {
        this.log.debug({ connections: this.sessions.size }, 'telemetry storage is behind: device connections paused');
        this.readPause.pauseAll(this.sessions.values());
      } else {
        this.log.debug('telemetry storage caught up: device connections resumed');
        this.readPause.resumeAll();
      }
    };
    ingest?.on('pressure', onPressure);
    this.unhook = () => {
      unhookDisconnects();
      unhookTakeovers();
      ingest?.off('pressure', onPressure);
      this.acks?.dispose();
    };
  }

  /** Connections open now (including those that have not said hello yet). */
  get connectionCount(): number {
    return this.open_;
  }

  /** The device's current session, if connected. */
  session(id: string): DeviceSession | undefined {
    return this.sessions.get(id);
  }

  /** A new connection; the transport then feeds its frames to `receive` and reports its close. */
  open(connection: AgentConnection, transport: string): DeviceSession {
    const session = new DeviceSession(this, connection, transport);
    this.open_++;
    this.metrics?.wsConnections.inc({ transport });
    if (this.closing) session.end(AgentCloseCodes.GOING_AWAY, 'hub shutting down');
    return session;
  }

  /** The transport's connection is gone (every connection, whatever ended it). */
  release(session: DeviceSession): void {
    this.open_--;
    this.readPause.remove(session);
    this.metrics?.wsConnections.dec({ transport: session.transport });
    session.connectionClosed();
  }

  /** Sends a message to a connected device. False when it has no open session. */
  sendTo<T extends MessageType>(id: string, type: T, payload: PayloadOf<T>): boolean {
    const session = this.sessions.get(id);
    if (!session || session.state !== 'active') return false;
    session.send(type, payload);
    return true;
  }

  /** A refused frame the transport itself detected (an oversized frame: ws closes with 1009). */
  countFrameError(code: string): void {
    this.metrics?.frameErrors.inc({ code });
  }

  /** The device's credential was revoked: its live session, if any, ends now. */
  revoked(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.presence.untrack(id, session);
    this.track(this.registry.disconnect(id, session.sessionId, DisconnectReasons.CREDENTIAL_REVOKED), id, 'disconnect');
    session.end(AgentCloseCodes.CREDENTIAL_REVOKED, 'credential revoked', {
      code: ErrorCodes.CREDENTIAL_REVOKED,
      message: 'this device credential was revoked',
    });
  }

  /**
   * Ends every session (DeviceDisconnected {reason: 'hub_shutdown'}) and waits for the registry
   * writes sessions started. Call before closing the registry.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.unhook();
    // Closing handshakes must be read.
    this.readPause.resumeAll();
    this.presence.close();
    for (const [id, session] of this.sessions) {
      this.sessions.delete(id);
      this.track(this.registry.disconnect(id, session.sessionId, DisconnectReasons.HUB_SHUTDOWN), id, 'disconnect');
      session.end(AgentCloseCodes.GOING_AWAY, 'hub shutting down');
    }
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  // ---- SessionHost ---------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  touch(_session: DeviceSession, id: string): void {
    this.presence.touch(id);
    this.registry.touch(id, this.clock.now());
  }

  countMessage(type: MessageType, direction: 'in' | 'out'): void {
    this.metrics?.countMessage(type, direction);
  }

  dispatch(session: DeviceSession, message: Message): void {
    const handler = this.handlers[message.type] as Handler<MessageType> | undefined;
    handler?.(session, message.device, message);
  }

  closed(session: DeviceSession): void {
    this.ended(session, DisconnectReasons.SOCKET_CLOSED);
  }

  mismatch(session: DeviceSession, claimed: string): void {
    const device = session.device;
    if (device === undefined) return;
    const repeat = this.mismatched.has(session);
    this.mismatched.add(session);
    this.onSecurityEvent?.({
      repeat,
      kind: ErrorCodes.DEVICE_MISMATCH,
      device,
      claimed,
      transport: session.transport,
      sessionId: session.sessionId,
    });
  }

  rateLimited(session: DeviceSession): void {
    this.log.warn(
      { device: session.device, sessionId: session.sessionId, limit: this.messageLimit },
      'device exceeds its message rate: frames over it are refused',
    );
  }

  refusedOverLimit(session: DeviceSession): void {
    if (!this.acks?.numbered(session)) return;
    this.endTelemetrySession(
      session,
      DisconnectReasons.RATE_LIMITED,
      AgentCloseCodes.POLICY_VIOLATION,
      'over the message rate with telemetry in flight: reconnect and send it again',
    );
  }

  expired(session: DeviceSession): void {
    this.log.info({ device: session.device, sessionId: session.sessionId }, 'device silent for 3 heartbeat intervals');
    this.ended(session, DisconnectReasons.HEARTBEAT_TIMEOUT);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** One handler per device → hub message type (the session has checked type, direction and identity). */
  private readonly handlers: { [T in MessageType]?: Handler<T> } = {
    hello: (session, id, message) => this.hello(session, id, message),
    heartbeat: (session, id, message) => {
      if (message.payload.uptime !== undefined) this.registry.touch(id, this.clock.now(), message.payload.uptime);
      session.send('ack', { of: 'heartbeat', seq: message.seq });
    },
    telemetry: (session, id, message) => {
      const { payload } = message;
      if ('records' in payload) {
        // A buffer's replay: every record goes live and to storage; the newest sets the resources.
        for (const { ts, metrics, samples } of payload.records)
          this.bus.publish(
            session.telemetrySubject,
            samples === undefined ? { ts, metrics } : { ts, metrics, samples },
          );
        const newest = payload.records[payload.records.length - 1];
        if (newest) this.registry.updateResources(id, newest.metrics);
        this.acks?.submit(session, id, payload.records);
        return;
      }
      const { metrics, samples, seq } = payload;
      this.registry.updateResources(id, metrics);
      this.bus.publish(
        session.telemetrySubject,
        samples === undefined ? { ts: message.ts, metrics } : { ts: message.ts, metrics, samples },
      );
      if (seq === undefined) return this.store(id, message.ts, metrics, samples);
      const record: TelemetryRecord = { seq, ts: message.ts, metrics };
      if (samples !== undefined) record.samples = samples;
      this.acks?.submit(session, id, [record]);
    },
    event: (session, id, message) => {
      const { type, data } = message.payload;
      this.track(this.registry.report(id, session.sessionId, type, data ?? {}), id, 'report');
    },
    log: (session, id, message) => this.storeLog(session, id, message),
    result: (session, id, message) => {
      this.emit('result', { device: id, sessionId: session.sessionId, ts: message.ts, result: message.payload });
    },
    progress: (session, id, message) => {
      this.emit('progress', { device: id, sessionId: session.sessionId, progress: message.payload });
    },
    error: (session, id, message) => {
      this.log.debug({ device: id, error: message.payload }, 'device refused a frame');
      this.emit('deviceError', { device: id, sessionId: session.sessionId, error: message.payload });
    },
  };

  private hello(session: DeviceSession, id: string, message: MessageOf<'hello'>): void {
    const authenticate = this.authenticate;
    if (!authenticate) return this.admit(session, id, message, { ok: true });
    session.claim(id);
    const request: HelloAuthRequest = {
      device: id,
      token: message.payload.token,
      transport: session.transport,
      sessionId: session.sessionId,
    };
    if (message.payload.csr !== undefined) request.csr = message.payload.csr;
    if (session.peerCertificate) request.certificate = session.peerCertificate;
    const deciding = authenticate(request).then(
      (result) => {
        if (session.state !== 'authenticating') return;
        if (result.ok) return this.admit(session, id, message, result);
        this.onSecurityEvent?.({
          kind: result.code,
          device: id,
          transport: session.transport,
          sessionId: session.sessionId,
        });
        session.end(AgentCloseCodes.UNAUTHORIZED, result.code, { code: result.code, message: result.message });
      },
      (err: unknown) => {
        this.log.error({ err, device: id }, 'cannot authenticate the device');
        session.end(AgentCloseCodes.INTERNAL_ERROR, 'hub cannot check the device credential');
      },
    );
    this.track(deciding, id, 'authenticate');
  }

  /** The hello is authenticated: the session becomes the device's. */
  private admit(
    session: DeviceSession,
    id: string,
    message: MessageOf<'hello'>,
    auth: Extract<HelloAuthResult, { ok: true }>,
  ): void {
    session.bind(id);
    const previous = this.sessions.get(id);
    this.sessions.set(id, session);
    this.presence.track(id, session);
    if (previous) {
      this.log.info(
        { device: id, sessionId: session.sessionId, replaced: previous.sessionId },
        'duplicate connection replaces the older one',
      );
      previous.end(AgentCloseCodes.REPLACED, 'replaced', {
        code: ErrorCodes.REPLACED,
        message: 'another connection for this device took over the session',
      });
    }
    const labels = auth.labels ?? {};
    const connecting = this.registry
      .connect({
        id,
        hello: message.payload,
        sessionId: session.sessionId,
        transport: session.transport,
        // The enrollment token's labels, written with the connection itself: the device is never
        // seen online without them.
        ...(Object.keys(labels).length > 0 && {
          labels: { labels, meta: { actor: SYSTEM_ACTOR, correlationId: session.sessionId, causationId: null } },
        }),
      })
      .then(
        () => {
          if (!session.activate()) return;
          this.readPause.add(session);
          const welcome: PayloadOf<'welcome'> = {
            heartbeatIntervalMs: this.heartbeatIntervalMs,
            hubVersion: this.hubVersion,
            sessionId: session.sessionId,
            serverTime: this.clock.now(),
          };
          if (auth.credential !== undefined) welcome.credential = auth.credential;
          if (auth.certificate !== undefined) welcome.certificate = auth.certificate;
          if (auth.ca !== undefined) welcome.ca = auth.ca;
          session.send('welcome', welcome);
          this.log.debug({ device: id, sessionId: session.sessionId }, 'device connected');
        },
        (err: unknown) => {
          this.log.error({ err, device: id }, 'cannot record the device as connected');
          if (this.sessions.get(id) === session) {
            this.sessions.delete(id);
            this.presence.untrack(id, session);
          }
          session.end(AgentCloseCodes.INTERNAL_ERROR, 'hub cannot record the session');
        },
      );
    this.track(connecting, id, 'connect');
  }

  /**
   * Telemetry without a durable `seq` (agents from before it, MQTT devices): stored at least once,
   * never acknowledged, no dedup. Refusals are counted by the ingest; a failed write is logged.
   */
  private store(
    id: string,
    ts: number,
    metrics: Record<string, number>,
    samples: Record<string, unknown> | undefined,
  ): void {
    if (!this.ingest) return;
    this.ingest.submit(id, [samples === undefined ? { ts, metrics } : { ts, metrics, samples }]).then(
      (result) => {
        if (result.refused.length > 0) this.log.debug({ device: id, refused: result.refused }, 'telemetry refused');
      },
      (err: unknown) => this.log.error({ err, device: id }, 'cannot store telemetry'),
    );
  }

  /**
   * Numbered telemetry of the session cannot be acknowledged in order (storage failed, a frame
   * was refused unread): the session ends, and the device sends its buffer again on the next one.
   */
  private endTelemetrySession(session: DeviceSession, reason: DisconnectReason, code: number, why: string): void {
    const id = session.device;
    if (id === undefined || session.state === 'ended') return;
    if (this.sessions.get(id) === session) {
      this.sessions.delete(id);
      this.presence.untrack(id, session);
      this.track(this.registry.disconnect(id, session.sessionId, reason), id, 'disconnect');
    }
    session.end(code, why.slice(0, 120));
  }

  /** Stores a log line, then publishes it as stored; a refusal goes back to the device, naming the frame. */
  private storeLog(session: DeviceSession, id: string, message: MessageOf<'log'>): void {
    const subject = session.logSubject;
    if (!this.logs) {
      this.bus.publish(subject, { ts: message.ts, ...message.payload });
      return;
    }
    void this.logs.submit(id, { ts: message.ts, ...message.payload }).then((outcome) => {
      if (outcome.ok) return this.bus.publish(subject, logLineView(outcome.line));
      session.send('error', {
        code: ErrorCodes.LOG_REFUSED,
        message: `${outcome.reason}: ${outcome.message}`,
        ref: { type: 'log', seq: message.seq },
      });
    });
  }

  /** The session ended on the device's side or by silence: the device goes offline, unless a newer session took over. */
  private ended(session: DeviceSession, reason: DisconnectReason): void {
    const id = session.device;
    if (id === undefined || this.sessions.get(id) !== session) return;
    this.sessions.delete(id);
    this.presence.untrack(id, session);
    this.track(this.registry.disconnect(id, session.sessionId, reason), id, 'disconnect');
  }

  /** The device connected through another hub (several hubs on NATS): this session ends without an event. */
  private takenOver(id: string, sessionId: string): void {
    const session = this.sessions.get(id);
    if (!session || session.sessionId !== sessionId) return;
    this.sessions.delete(id);
    this.presence.untrack(id, session);
    session.end(AgentCloseCodes.REPLACED, 'replaced', {
      code: ErrorCodes.REPLACED,
      message: 'the device connected through another hub, which holds its session now',
    });
  }

  private decommissioned(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.presence.untrack(id, session);
    session.end(AgentCloseCodes.DECOMMISSIONED, 'decommissioned');
  }

  /** Keeps a registry write in `pending` until it settles; failures are logged (the device's state is what the log says). */
  private track(promise: Promise<unknown>, id: string, what: string): void {
    const settled = promise.then(
      () => undefined,
      (err: unknown) => this.log.error({ err, device: id }, `registry ${what} failed`),
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }
}
