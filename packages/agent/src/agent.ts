import { EventEmitter } from 'node:events';
import os from 'node:os';
import { WebSocket, type RawData } from 'ws';
import {
  ErrorCodes,
  MAX_FRAME_BYTES,
  envelope,
  parseFrame,
  systemClock,
  validateMessage,
  type Clock,
  type CommandPayload,
  type ErrorPayload,
  type HelloPayload,
  type LogLevel,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadOf,
  type TimerHandle,
  type WelcomePayload,
} from '@flotilla/protocol';
import { AgentTelemetry, type AgentTelemetryStats } from './agent-telemetry.js';
import { Backoff } from './backoff.js';
import { CommandRegistry, DEFAULT_COMMAND_TIMEOUT_MS, type CommandHandler } from './commands.js';
import { IdentityFileCredentials, type CredentialStore } from './credentials.js';
import { ClientTls } from './client-tls.js';
import { AgentError, AgentErrorCodes } from './errors.js';
import { collectFacts, mergeCapabilities, mergeFacts, type Facts } from './facts.js';
import { resolveIdentity } from './identity.js';
import { holdProcess } from './keepalive.js';
import { getDefaultLogger, type AgentLogger } from './logger.js';
import {
  canTransition,
  IllegalTransitionError,
  type AgentState,
  type DisconnectReason,
  type StateEvent,
} from './state.js';
import type { AgentOptions, AgentStats } from './options.js';
import { SystemMetricsReporter } from './system-reporter.js';
import { agentSocketUrl } from './url.js';
import { shippingLogger } from './log-shipping.js';
import type { TeleoperationDetector, TeleoperationSession } from './teleop/detector.js';
import { createTeleoperationDetector } from './teleop/options.js';

type StateInit = StateEvent extends infer E ? (E extends StateEvent ? Omit<E, 'from' | 'at'> : never) : never;

/** A socket that has not drained this much is congested; more frames would only queue in memory. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Missed heartbeat intervals (no frame at all from the hub) before the link is presumed dead. */
const DEAD_AFTER_INTERVALS = 3;

/** Default wait after the hub refused our token (see AgentOptions.authRetryMs). */
export const DEFAULT_AUTH_RETRY_MS = 300_000;

/** Hub refusals of the device's identity: retrying at once cannot succeed. */
const REFUSALS: ReadonlySet<string> = new Set([
  ErrorCodes.UNAUTHORIZED,
  ErrorCodes.CREDENTIAL_REVOKED,
  ErrorCodes.ENROLLMENT_EXPIRED,
  ErrorCodes.ENROLLMENT_EXHAUSTED,
  ErrorCodes.CERTIFICATE_REQUIRED,
  ErrorCodes.INVALID_CSR,
]);

/** Refusals of the client certificate the agent can fix itself: it drops the certificate and asks for a new one. */
const CERTIFICATE_REFUSALS: ReadonlySet<string> = new Set([
  ErrorCodes.CERTIFICATE_MISMATCH,
  ErrorCodes.CERTIFICATE_REVOKED,
]);

/** What an operator should do about each refusal, for the log line. */
const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  [ErrorCodes.UNAUTHORIZED]: 'start the agent with a valid enrollment token (--token fle_…)',
  [ErrorCodes.CREDENTIAL_REVOKED]:
    'an administrator revoked this device; remove "credential" from identity.json and enroll again with a new token',
  [ErrorCodes.ENROLLMENT_EXPIRED]: 'the enrollment token has expired; ask for a new one',
  [ErrorCodes.ENROLLMENT_EXHAUSTED]: 'the enrollment token has no uses left; ask for a new one',
  [ErrorCodes.CERTIFICATE_REQUIRED]:
    'the hub requires a client certificate and this device has none: revoke its credential and enroll it again over wss://',
  [ErrorCodes.INVALID_CSR]: 'the hub could not use the certificate request; this is a bug, please report it',
};

/**
 * A device's connection to the hub. Small on purpose: the simulator runs 10,000 of these in one
 * process, so an agent holds a socket, a few timers and counters, and references to facts and
 * handlers that can be shared with other agents.
 *
 * Expected trouble (hub down, socket dropped, hub silent) never throws: it shows as state
 * events, and the agent keeps reconnecting with backoff until `stop()`.
 */
export class Agent extends EventEmitter<{ state: [StateEvent] }> {
  readonly id: string;
  private currentState: AgentState = 'Initializing';
  private readonly url: string;
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  private readonly logger: AgentLogger;
  private readonly backoff: Backoff;
  private registry: CommandRegistry | undefined;
  private facts: Facts | undefined;
  private readonly createdAt: number;

  private socket: WebSocket | undefined;
  private seq = 0;
  private session: string | undefined;
  private heartbeatMs = 0;
  private connectedAt: number | undefined;
  private lastInboundAt = 0;
  private closeReason: DisconnectReason | undefined;
  private closeDetail: string | undefined;
  private replaced = false;
  private pingSeq = -1;
  private pingAt = 0;
  private rtt: number | undefined;
  /** Running commands by id, with what cancels each. */
  private inflight: Map<string, AbortController> | undefined;

  private registrationTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private systemMetrics: SystemMetricsReporter | undefined;
  private teleoperation: TeleoperationDetector | undefined;
  private releaseProcess: (() => void) | undefined;

  private readonly credentials: CredentialStore;
  /** This device's own secret, once enrolled; presented instead of the enrollment token. */
  private credential: string | undefined;
  /** The hub refused our token on the current socket: reconnect only after `authRetryMs`. */
  private refused = false;
  private readonly tls: ClientTls;
  /** Every telemetry message, buffered until the hub acknowledges it. */
  private readonly telemetry: AgentTelemetry;

  private readonly counters: AgentStats = { sent: 0, received: 0, dropped: 0, invalidFrames: 0, attempts: 0 };

  /** Throws AgentError for a bad hub URL, a bad id, or an identity file it cannot use. */
  constructor(options: AgentOptions) {
    super();
    this.options = options;
    this.url = agentSocketUrl(options.hubUrl);
    this.clock = options.clock ?? systemClock;
    const logger = options.logger ?? getDefaultLogger();
    const ship = options.shipLogs ?? 'off';
    this.logger =
      ship === 'off'
        ? logger
        : shippingLogger(logger, ship, (level, message, fields) => this.sendLog(level, message, fields));
    try {
      this.backoff = new Backoff({ ...options.backoff, ...(options.random ? { random: options.random } : {}) });
    } catch (err) {
      throw new AgentError(AgentErrorCodes.INVALID_OPTIONS, (err as Error).message, { cause: err });
    }
    this.registry = options.commands;
    this.id = resolveIdentity({ id: options.id, stateDir: options.stateDir }).id;
    this.credentials = options.credentials ?? new IdentityFileCredentials(options.stateDir);
    this.credential = this.credentials.load(this.id);
    this.tls = new ClientTls({
      id: this.id,
      url: this.url,
      stateDir: options.stateDir,
      ca: options.ca,
      caFile: options.caFile,
      clientCertificate: options.clientCertificate ?? true,
      clock: this.clock,
      logger: this.logger,
    });
    this.createdAt = this.clock.now();
    const bufferDir =
      options.telemetryBufferDir ??
      (options.stateDir === undefined ? undefined : AgentTelemetry.dirIn(options.stateDir));
    this.telemetry = new AgentTelemetry({
      device: this.id,
      dir: bufferDir,
      capMb: options.telemetryBufferMb,
      window: options.telemetryWindow,
      flushMs: options.telemetryFlushMs,
      clock: this.clock,
      logger: this.logger,
      send: (payload, ts) => {
        const ws = this.socket;
        // Not sent is not lost: the records stay buffered and go with the next pump.
        if (this.currentState !== 'Connected' || !ws || ws.bufferedAmount > MAX_BUFFERED_BYTES) return false;
        return this.write(ws, envelope('telemetry', this.id, this.seq + 1, ts ?? this.clock.now(), payload));
      },
      sendEvent: (type, data) => this.currentState === 'Connected' && this.sendEvent(type, data),
    });
  }

  get state(): AgentState {
    return this.currentState;
  }

  /** Round trip of the last acknowledged heartbeat (ms), once one was measured. */
  get lastRttMs(): number | undefined {
    return this.rtt;
  }

  /** The hub's id for the current session, while connected. */
  get sessionId(): string | undefined {
    return this.session;
  }

  get stats(): Readonly<AgentStats> {
    return { ...this.counters };
  }

  /** The telemetry buffer: what it holds, what is in flight, what the cap dropped and the hub refused. */
  get telemetryStats(): Readonly<AgentTelemetryStats> {
    return this.telemetry.stats;
  }

  /**
   * Handlers must be registered before `start()` to be declared in `hello`; one registered later
   * works at once but is only declared from the next session on. With a shared registry
   * (`options.commands`) the handler serves every agent sharing it.
   */
  registerCommandHandler(capability: string, command: string, handler: CommandHandler): void {
    this.registry ??= new CommandRegistry();
    this.registry.register(capability, command, handler);
  }

  /** Starts connecting and returns; progress shows as state events. */
  start(): void {
    if (this.currentState !== 'Initializing') {
      throw new AgentError(AgentErrorCodes.ALREADY_STARTED, `agent ${this.id} was already started`);
    }
    if (this.options.collectSystemMetrics ?? true) {
      this.systemMetrics = new SystemMetricsReporter({
        clock: this.clock,
        intervalMs: this.options.metricsIntervalMs ?? 5_000,
        maxIntervalMs: this.options.metricsMaxIntervalMs ?? 60_000,
      });
    }
    if (this.options.teleoperation !== false) {
      this.teleoperation = createTeleoperationDetector(this.options.teleoperation ?? {}, this.clock, {
        onStart: (session) => this.reportTeleoperation(session, undefined),
        onStop: (session, at) => this.reportTeleoperation(session, at),
        onError: (err, indicator) =>
          this.logger.debug(
            { device: this.id, indicator, err: (err as Error).message },
            'teleoperation indicator failed',
          ),
      });
      this.teleoperation.start();
    }
    this.releaseProcess = holdProcess();
    this.telemetry.start();
    this.connect();
  }

  /** Closes the session and stops reconnecting. Resolves once the socket is closed. */
  async stop(): Promise<void> {
    if (this.currentState === 'Stopped') return;
    this.teleoperation?.stop();
    this.cancelSessionTimers();
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    const ws = this.socket;
    this.socket = undefined;
    this.session = undefined;
    this.transition({ state: 'Stopped' });
    this.telemetry.close();
    this.releaseProcess?.();
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'agent stopped');
      // a hub that never answers the close handshake must not hold up shutdown
      const guard = this.clock.setTimeout(() => ws.terminate(), 2_000);
      ws.once('close', () => guard.cancel());
    });
  }

  /**
   * Numeric metrics (and structured samples) taken at `ts` (default now): numbered and buffered
   * at once, connected or not, and sent in order until the hub acknowledges them (docs/agent.md,
   * "Telemetry buffer"). True once buffered; false after `stop()` (dropped and counted). Throws
   * AgentError `invalid_message` for a message the protocol would refuse.
   */
  sendTelemetry(metrics: Record<string, number>, samples?: Record<string, unknown>, ts?: number): boolean {
    const at = Math.round(ts ?? this.clock.now());
    const payload = samples === undefined ? { metrics, seq: 0 } : { metrics, samples, seq: 0 };
    const checked = validateMessage(envelope('telemetry', this.id, 1, at, payload));
    if (!checked.ok) throw new AgentError(AgentErrorCodes.INVALID_MESSAGE, `telemetry: ${checked.error.message}`);
    // One record must fit a frame on its own, or it could never be sent.
    if (JSON.stringify(payload).length > MAX_FRAME_BYTES - 1024) {
      throw new AgentError(
        AgentErrorCodes.INVALID_MESSAGE,
        `telemetry: larger than a frame (${MAX_FRAME_BYTES} bytes)`,
      );
    }
    if (this.currentState === 'Stopped' || !this.telemetry.append(at, metrics, samples)) {
      this.counters.dropped++;
      return false;
    }
    return true;
  }

  /** Sends a device event (`type` like `teleop.started`). False when dropped. */
  sendEvent(type: string, data?: Record<string, unknown>): boolean {
    return this.sendChecked('event', data === undefined ? { type } : { type, data });
  }

  /**
   * Ships a structured log line (level, message, fields) to the hub, which stores it (docs/logs.md).
   * False when dropped (not connected); throws AgentError for a line the protocol refuses.
   */
  sendLog(level: LogLevel, message: string, fields?: Record<string, unknown>): boolean {
    return this.sendChecked('log', fields === undefined ? { level, message } : { level, message, fields });
  }

  // ---- connection lifecycle -----------------------------------------------------------------

  private connect(): void {
    this.counters.attempts++;
    this.closeReason = undefined;
    this.closeDetail = undefined;
    this.replaced = false;
    this.refused = false;
    this.transition({ state: 'Registering', attempt: this.counters.attempts, url: this.url });
    // No compression: inflate/deflate contexts cost ~300 KB per socket, which 10,000 simulated
    // agents cannot afford, and our frames are small.
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      ...this.tls.socketOptions(),
    });
    this.socket = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data) => this.onMessage(ws, data));
    // A hub that stopped reading (its storage is behind: backpressure) still pings: it is alive.
    ws.on('ping', () => {
      if (this.socket === ws) this.lastInboundAt = this.clock.now();
    });
    ws.on('error', (err) => this.onSocketError(ws, err));
    ws.on('close', (code) => this.onClose(ws, code));
    this.registrationTimer = this.clock.setTimeout(() => {
      if (this.socket !== ws || this.currentState !== 'Registering') return;
      this.drop(ws, 'registration_timeout', 'no welcome from the hub');
    }, this.options.registrationTimeoutMs ?? 10_000);
  }

  private onOpen(ws: WebSocket): void {
    if (this.socket !== ws) return;
    this.seq = 0;
    // Computed once and kept: the host's facts object is shared by every agent in the process.
    this.facts ??= mergeFacts(this.options.systemFacts === false ? {} : collectFacts(), this.options.facts);
    const capabilities = mergeCapabilities(this.facts.capabilities, this.registry?.capabilities());
    const hello: HelloPayload = { ...this.facts, uptime: this.uptime() };
    if (capabilities) hello.capabilities = capabilities;
    const token = this.credential ?? this.options.token;
    if (token !== undefined) hello.token = token;
    const csr = this.tls.csr();
    if (csr !== undefined) hello.csr = csr;
    this.send(ws, 'hello', hello);
  }

  private onSocketError(ws: WebSocket, err: Error & { code?: string }): void {
    if (this.socket !== ws) return;
    this.closeReason ??= 'socket_error';
    this.closeDetail ??= err.message;
    this.tls.explain(err);
  }

  private onClose(ws: WebSocket, code: number): void {
    if (this.socket !== ws) return; // a socket we already let go of (stop, replaced by a newer one)
    this.socket = undefined;
    this.session = undefined;
    this.cancelSessionTimers();
    this.telemetry.disconnected();
    const stable =
      this.connectedAt !== undefined &&
      this.clock.now() - this.connectedAt >= (this.options.stableConnectionMs ?? 10_000);
    this.connectedAt = undefined;
    if (this.replaced) this.backoff.escalate();
    else if (stable) this.backoff.reset();
    const reason = this.closeReason ?? 'socket_closed';
    const event: StateInit = { state: 'Disconnected', reason, code };
    if (this.closeDetail !== undefined) event.detail = this.closeDetail;
    this.logger.info({ device: this.id, reason, code, detail: this.closeDetail }, 'disconnected from hub');
    this.transition(event);
    if (!this.isIn('Disconnected')) return; // a state listener stopped the agent
    const delayMs = this.refused ? (this.options.authRetryMs ?? DEFAULT_AUTH_RETRY_MS) : this.backoff.next();
    this.transition({ state: 'Reconnecting', attempt: this.backoff.attempt, delayMs });
    if (!this.isIn('Reconnecting')) return;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.currentState === 'Reconnecting') this.connect();
    }, delayMs);
  }

  /** Ends the session from our side; `onClose` then reports `reason`. */
  private drop(ws: WebSocket, reason: DisconnectReason, detail: string): void {
    this.closeReason = reason;
    this.closeDetail = detail;
    ws.terminate();
  }

  private cancelSessionTimers(): void {
    this.registrationTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.systemMetrics?.stop();
    this.registrationTimer = this.heartbeatTimer = undefined;
  }

  /** State after emitting: a listener may have called stop(), which TypeScript's narrowing cannot see. */
  private isIn(state: AgentState): boolean {
    return this.currentState === state;
  }

  private transition(init: StateInit): void {
    const from = this.currentState;
    if (!canTransition(from, init.state)) throw new IllegalTransitionError(from, init.state);
    this.currentState = init.state;
    this.emit('state', { ...init, from, at: this.clock.now() } as StateEvent);
  }

  // ---- inbound frames -------------------------------------------------------------------------

  private onMessage(ws: WebSocket, data: RawData): void {
    if (this.socket !== ws) return;
    this.counters.received++;
    this.lastInboundAt = this.clock.now();
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const parsed = parseFrame(raw);
    if (!parsed.ok) {
      this.counters.invalidFrames++;
      this.logger.warn(
        { device: this.id, code: parsed.error.code, reason: parsed.error.message },
        'invalid frame from hub',
      );
      this.reject(ws, parsed.error);
      return;
    }
    const msg = parsed.value;
    if (msg.device !== this.id) {
      this.counters.invalidFrames++;
      this.reject(ws, {
        code: ErrorCodes.DEVICE_MISMATCH,
        message: `frame is for ${msg.device}, this is ${this.id}`,
        ref: refOf(msg),
      });
      return;
    }
    switch (msg.type) {
      case 'welcome':
        return this.onWelcome(ws, msg.payload);
      case 'ack':
        if (msg.payload.of === 'heartbeat') this.onHeartbeatAck(msg.payload.seq);
        else if (msg.payload.of === 'telemetry') this.telemetry.acked(msg.payload);
        return;
      case 'command':
        return this.onCommand(msg.payload);
      case 'cancel':
        // A command that already finished (or never ran here) has nothing to cancel.
        this.inflight?.get(msg.payload.id)?.abort(msg.payload.reason ?? 'cancelled by the hub');
        return;
      case 'error':
        return this.onHubError(ws, msg.payload);
      default:
        this.counters.invalidFrames++;
        this.reject(ws, {
          code: ErrorCodes.WRONG_DIRECTION,
          message: `${msg.type} is not sent by a hub`,
          ref: refOf(msg),
        });
    }
  }

  private reject(ws: WebSocket, error: ErrorPayload): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.ref) payload.ref = error.ref;
    this.send(ws, 'error', payload);
  }

  private onWelcome(ws: WebSocket, welcome: WelcomePayload): void {
    if (this.currentState !== 'Registering') {
      this.logger.debug({ device: this.id }, 'ignoring a second welcome');
      return;
    }
    this.registrationTimer?.cancel();
    this.registrationTimer = undefined;
    if (welcome.credential !== undefined) this.enrolled(welcome.credential);
    if (welcome.certificate !== undefined || welcome.ca !== undefined)
      this.tls.welcomed(welcome.certificate, welcome.ca);
    this.session = welcome.sessionId;
    this.heartbeatMs = welcome.heartbeatIntervalMs;
    this.connectedAt = this.clock.now();
    this.pingSeq = -1;
    this.logger.info(
      { device: this.id, sessionId: welcome.sessionId, heartbeatIntervalMs: welcome.heartbeatIntervalMs },
      'connected to hub',
    );
    this.transition({
      state: 'Connected',
      sessionId: welcome.sessionId,
      heartbeatIntervalMs: welcome.heartbeatIntervalMs,
    });
    if (!this.isIn('Connected') || this.socket !== ws) return; // a state listener stopped the agent
    this.heartbeatTimer = this.clock.setInterval(() => this.beat(ws), this.heartbeatMs);
    this.telemetry.connected();
    if (!this.isIn('Connected') || this.socket !== ws) return;
    this.systemMetrics?.start((metrics) => this.sendTelemetry(metrics));
    // The hub forgets a session when the device goes offline: tell it again.
    const session = this.teleoperation?.session;
    if (session) this.reportTeleoperation(session, undefined);
  }

  private beat(ws: WebSocket): void {
    if (this.socket !== ws) return;
    const now = this.clock.now();
    if (now - this.lastInboundAt >= DEAD_AFTER_INTERVALS * this.heartbeatMs) {
      this.drop(ws, 'heartbeat_timeout', `nothing from the hub for ${now - this.lastInboundAt} ms`);
      return;
    }
    // Only the latest heartbeat is timed: an ack for an older one arrives after a newer one was
    // sent and would measure nothing useful, and one pending pair keeps the agent small.
    if (this.send(ws, 'heartbeat', { uptime: this.uptime() })) {
      this.pingSeq = this.seq;
      this.pingAt = now;
    }
    this.telemetry.tick();
  }

  private onHeartbeatAck(seq: number): void {
    if (seq !== this.pingSeq) return;
    this.pingSeq = -1;
    this.rtt = this.clock.now() - this.pingAt;
    this.options.onRttSample?.(this.rtt);
  }

  private onCommand(command: CommandPayload): void {
    // The hub may redeliver a command whose result it has not seen; run each id once at a time.
    if (this.inflight?.has(command.id)) return;
    this.teleoperation?.observeCommand(command);
    const cancel = new AbortController();
    (this.inflight ??= new Map()).set(command.id, cancel);
    const registry = this.registry ?? (this.registry = new CommandRegistry());
    const progress = (fraction: number, message?: string): void => {
      this.sendChecked(
        'progress',
        message === undefined
          ? { id: command.id, progress: fraction }
          : { id: command.id, progress: fraction, message },
      );
    };
    void registry
      .execute(command, this.id, this.clock, this.options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, {
        progress,
        cancel: cancel.signal,
      })
      .then((result) => {
        this.inflight?.delete(command.id);
        if (!this.sendChecked('result', result)) {
          this.logger.warn(
            { device: this.id, commandId: command.id, status: result.status },
            'command result dropped: not connected',
          );
        }
      });
  }

  private onHubError(ws: WebSocket, error: ErrorPayload): void {
    this.logger.warn(
      { device: this.id, code: error.code, reason: error.message, ref: error.ref },
      'hub reported an error',
    );
    if (error.code === ErrorCodes.REPLACED) {
      this.replaced = true;
      this.drop(ws, 'replaced', 'another connection for this device id took over');
    } else if (CERTIFICATE_REFUSALS.has(error.code) && this.tls.dropCertificate()) {
      // Stale (revoked, re-enrolled) or not this id's: connect without it and ask for a new one.
      this.logger.warn(
        { device: this.id, code: error.code },
        'the hub refused the client certificate; asking for a new one',
      );
      this.drop(ws, 'refused', error.message);
    } else if (REFUSALS.has(error.code)) {
      this.refused = true;
      const retryMs = this.options.authRetryMs ?? DEFAULT_AUTH_RETRY_MS;
      this.logger.error(
        {
          device: this.id,
          code: error.code,
          retryInMs: retryMs,
          presented: this.credential ? 'credential' : 'enrollment token',
        },
        `the hub refused this device (${error.code}): ${REFUSAL_HINTS[error.code] ?? error.message}`,
      );
      this.drop(ws, 'refused', error.message);
    }
  }

  /** A teleoperation session started (`stoppedAt` undefined) or stopped: an event for the hub, a line for the local log. */
  private reportTeleoperation(session: TeleoperationSession, stoppedAt: number | undefined): void {
    const { since, operator, indicators, streams } = session;
    if (stoppedAt === undefined) {
      this.logger.info({ device: this.id, operator, indicators }, 'teleoperation started');
      const data: Record<string, unknown> = { since, indicators, streams };
      if (operator !== null) data['operator'] = operator;
      this.sendEvent('teleoperation.started', data);
    } else {
      this.logger.info({ device: this.id, operator, durationMs: stoppedAt - since }, 'teleoperation stopped');
      this.sendEvent('teleoperation.stopped', { since, durationMs: stoppedAt - since });
    }
  }

  /** The hub enrolled this device: keep its credential (never logged) and present it from now on. */
  private enrolled(secret: string): void {
    this.credential = secret;
    try {
      this.credentials.save(this.id, secret);
      this.logger.info({ device: this.id }, 'enrolled with the hub; device credential stored');
    } catch (err) {
      // Still usable for this process; a restart will need a new enrollment token.
      this.logger.error(
        { device: this.id, err: (err as Error).message },
        'enrolled, but cannot store the device credential',
      );
    }
  }

  // ---- outbound frames ------------------------------------------------------------------------

  /**
   * Validates caller-supplied payloads against the protocol schema, so a bad name fails here, at
   * the call, rather than as an error frame from the hub later. What cannot be sent now is
   * dropped and counted in `stats.dropped` (telemetry is not: it goes through the buffer).
   */
  private sendChecked<T extends 'event' | 'log' | 'result' | 'progress'>(
    type: T,
    payload: PayloadOf<T>,
    ts?: number,
  ): boolean {
    const msg = envelope(type, this.id, this.seq + 1, Math.round(ts ?? this.clock.now()), payload);
    const checked = validateMessage(msg);
    if (!checked.ok) throw new AgentError(AgentErrorCodes.INVALID_MESSAGE, `${type}: ${checked.error.message}`);
    const ws = this.socket;
    if (this.currentState !== 'Connected' || !ws) {
      this.counters.dropped++;
      return false;
    }
    return this.write(ws, msg);
  }

  private send<T extends MessageType>(ws: WebSocket, type: T, payload: PayloadOf<T>): boolean {
    return this.write(ws, envelope(type, this.id, this.seq + 1, this.clock.now(), payload));
  }

  private write(ws: WebSocket, msg: MessageOf<MessageType>): boolean {
    if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.dropped++;
      return false;
    }
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (err) {
      // a handler result with a cycle or a BigInt: the hub still deserves an answer
      if (msg.type !== 'result') throw err;
      const { id } = (msg as MessageOf<'result'>).payload;
      text = JSON.stringify(
        envelope('result', this.id, msg.seq, msg.ts, {
          id,
          status: 'failed',
          error: { code: AgentErrorCodes.COMMAND_FAILED, message: `result is not JSON: ${(err as Error).message}` },
        }),
      );
    }
    this.seq = msg.seq;
    ws.send(text);
    this.counters.sent++;
    return true;
  }

  /** Device uptime (s): the host's, or for a simulated device its stated uptime plus time since. */
  private uptime(): number {
    const stated = this.options.facts?.uptime;
    if (stated === undefined) return Math.round(os.uptime());
    return Math.round(stated + (this.clock.now() - this.createdAt) / 1000);
  }
}

function refOf(msg: Message): { type: string; seq: number } {
  return { type: msg.type, seq: msg.seq };
}
