import { EventEmitter } from 'node:events';
import os from 'node:os';
import { WebSocket, type RawData } from 'ws';
import {
  ErrorCodes,
  MAX_FRAME_BYTES,
  systemClock,
  type Clock,
  type CommandPayload,
  type ErrorPayload,
  type LogLevel,
  type PayloadOf,
  type TimerHandle,
  type WelcomePayload,
} from '@flotilla/protocol';
import { AgentTelemetry, checkTelemetry, type AgentTelemetryStats } from './agent-telemetry.js';
import { Backoff } from './backoff.js';
import { CommandDispatcher } from './command-dispatch.js';
import { registerDrivers, TelemetryProducers } from './drivers/driver.js';
import { CommandRegistry, DEFAULT_COMMAND_TIMEOUT_MS, type CommandHandler } from './commands.js';
import { IdentityFileCredentials, type CredentialStore } from './credentials.js';
import { ClientTls } from './client-tls.js';
import { AgentError, AgentErrorCodes } from './errors.js';
import { collectFacts, mergeFacts, type Facts } from './facts.js';
import { FrameWriter, MAX_BUFFERED_BYTES } from './frame-writer.js';
import { helloPayload, storeCredential } from './handshake.js';
import { readHubFrame } from './inbound.js';
import { Heartbeat } from './heartbeat.js';
import { CERTIFICATE_REFUSALS, DEFAULT_AUTH_RETRY_MS, REFUSAL_HINTS, REFUSALS } from './hub-refusals.js';
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
import type { TeleoperationDetector } from './teleop/detector.js';
import { reportTeleoperation, startTeleoperationReports } from './teleop/report.js';

export { DEFAULT_AUTH_RETRY_MS };

type StateInit = StateEvent extends infer E ? (E extends StateEvent ? Omit<E, 'from' | 'at'> : never) : never;

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
  /** `hubUrl` then `hubUrls`, as agent socket URLs; `url` is the one tried now. */
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  private readonly logger: AgentLogger;
  private readonly backoff: Backoff;
  private registry: CommandRegistry | undefined;
  private facts: Facts | undefined;
  private readonly createdAt: number;

  private socket: WebSocket | undefined;
  private readonly frames: FrameWriter;
  private readonly heartbeat: Heartbeat;
  private session: string | undefined;
  private connectedAt: number | undefined;
  private closeReason: DisconnectReason | undefined;
  private closeDetail: string | undefined;
  private replaced = false;
  /** Created at the first command from the hub. */
  private commands: CommandDispatcher | undefined;

  private registrationTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private systemMetrics: SystemMetricsReporter | undefined;
  private teleoperation: TeleoperationDetector | undefined;
  private releaseProcess: (() => void) | undefined;
  /** The drivers' telemetry, sampled while the agent runs. */
  private readonly producers: TelemetryProducers | undefined;

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
    this.urls = [options.hubUrl, ...(options.hubUrls ?? [])].map(agentSocketUrl);
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
    if (options.drivers?.length) {
      this.registry = registerDrivers(this.registry ?? new CommandRegistry(), options.drivers);
      this.producers = new TelemetryProducers(options.drivers, this.clock);
    }
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
    this.frames = new FrameWriter(this.id, this.clock, this.counters);
    this.heartbeat = new Heartbeat(this.clock, options.onRttSample);
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
        return this.frames.write(ws, this.frames.next('telemetry', payload, ts));
      },
      sendEvent: (type, data) => this.currentState === 'Connected' && this.sendEvent(type, data),
    });
  }

  get state(): AgentState {
    return this.currentState;
  }

  /** Round trip of the last acknowledged heartbeat (ms), once one was measured. */
  get lastRttMs(): number | undefined {
    return this.heartbeat.rtt;
  }

  /** The hub's id for the current session, while connected. */
  get sessionId(): string | undefined {
    return this.session;
  }

  /** Whether this device holds its own credential from the hub (it enrolled, now or before). */
  get hasCredential(): boolean {
    return this.credential !== undefined;
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
    this.teleoperation = startTeleoperationReports(
      this.options.teleoperation,
      this.clock,
      this.id,
      this.logger,
      (t, d) => this.sendEvent(t, d),
    );
    this.releaseProcess = holdProcess();
    this.telemetry.start();
    this.producers?.start(this.id, (r) => this.sendTelemetry(r.metrics, r.samples));
    this.connect();
  }

  /** Closes the session and stops reconnecting. Resolves once the socket is closed. */
  async stop(): Promise<void> {
    if (this.currentState === 'Stopped') return;
    this.teleoperation?.stop();
    this.producers?.stop();
    this.cancelSessionTimers();
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    const ws = this.socket;
    this.socket = undefined;
    this.session = undefined;
    this.transition({ state: 'Stopped' });
    this.telemetry.close();
    this.releaseProcess?.();
    // Stopped already: a second stop() returns above while drivers close.
    await Promise.all((this.options.drivers ?? []).map((d) => d.close?.()));
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
    checkTelemetry(this.id, at, metrics, samples);
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

  private get url(): string {
    return this.urls[this.urlIndex] as string;
  }

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
      if (this.socket === ws) this.heartbeat.heard();
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
    this.frames.seq = 0;
    // Computed once and kept: the host's facts object is shared by every agent in the process.
    this.facts ??= mergeFacts(this.options.systemFacts === false ? {} : collectFacts(), this.options.facts);
    const hello = helloPayload({
      facts: this.facts,
      handled: this.registry?.capabilities(),
      uptime: this.uptime(),
      token: this.credential ?? this.options.token,
      csr: this.tls.csr(),
    });
    this.frames.send(ws, 'hello', hello);
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
    // With several hubs, the next attempt goes to the next one: this one may be gone for good.
    if (!this.refused) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
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
    this.registrationTimer = undefined;
    this.heartbeat.stop();
    this.systemMetrics?.stop();
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
    this.heartbeat.heard();
    const read = readHubFrame(data, this.id);
    if (!read.ok) {
      this.counters.invalidFrames++;
      if (read.unparsed) {
        const { code, message } = read.error;
        this.logger.warn({ device: this.id, code, reason: message }, 'invalid frame from hub');
      }
      this.reject(ws, read.error);
      return;
    }
    const msg = read.msg;
    switch (msg.type) {
      case 'welcome':
        return this.onWelcome(ws, msg.payload);
      case 'ack':
        if (msg.payload.of === 'heartbeat') this.heartbeat.acked(msg.payload.seq);
        else if (msg.payload.of === 'telemetry') this.telemetry.acked(msg.payload);
        return;
      case 'command':
        return this.onCommand(msg.payload);
      case 'cancel':
        this.commands?.cancel(msg.payload.id, msg.payload.reason ?? 'cancelled by the hub');
        return;
      case 'error':
        return this.onHubError(ws, msg.payload);
    }
  }

  private reject(ws: WebSocket, error: ErrorPayload): void {
    const payload: ErrorPayload = { code: error.code, message: error.message };
    if (error.ref) payload.ref = error.ref;
    this.frames.send(ws, 'error', payload);
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
    this.connectedAt = this.clock.now();
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
    this.heartbeat.start(welcome.heartbeatIntervalMs, () => this.beat(ws));
    this.telemetry.connected();
    if (!this.isIn('Connected') || this.socket !== ws) return;
    this.systemMetrics?.start((metrics) => this.sendTelemetry(metrics));
    // The hub forgets a session when the device goes offline: tell it again.
    const session = this.teleoperation?.session;
    if (session) reportTeleoperation(this.id, this.logger, (t, d) => this.sendEvent(t, d), session, undefined);
  }

  private beat(ws: WebSocket): void {
    if (this.socket !== ws) return;
    const silent = this.heartbeat.deadFor();
    if (silent !== undefined) {
      this.drop(ws, 'heartbeat_timeout', `nothing from the hub for ${silent} ms`);
      return;
    }
    if (this.frames.send(ws, 'heartbeat', { uptime: this.uptime() })) this.heartbeat.sent(this.frames.seq);
    this.telemetry.tick();
  }

  private onCommand(command: CommandPayload): void {
    this.commands ??= new CommandDispatcher({
      device: this.id,
      clock: this.clock,
      timeoutMs: this.options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      logger: this.logger,
      observe: (c) => this.teleoperation?.observeCommand(c),
      send: (type, payload) => this.sendChecked(type, payload),
    });
    this.commands.run(command, (this.registry ??= new CommandRegistry()));
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

  /** The hub enrolled this device: present its credential from now on. */
  private enrolled(secret: string): void {
    this.credential = secret;
    storeCredential(this.credentials, this.id, secret, this.logger);
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
    const msg = this.frames.checked(type, payload, ts);
    const ws = this.socket;
    if (this.currentState !== 'Connected' || !ws) {
      this.counters.dropped++;
      return false;
    }
    return this.frames.write(ws, msg);
  }

  /** Device uptime (s): the host's, or for a simulated device its stated uptime plus time since. */
  private uptime(): number {
    const stated = this.options.facts?.uptime;
    if (stated === undefined) return Math.round(os.uptime());
    return Math.round(stated + (this.clock.now() - this.createdAt) / 1000);
  }
}
