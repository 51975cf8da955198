import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '@flotilla/protocol';
import { registerAlertRoutes } from './alerts/routes.js';
import { AlertService } from './alerts/service.js';
import { Bus } from './bus.js';
import { registerCommandRoutes } from './commands/routes.js';
import { CommandService, RESULT_GRACE_MS } from './commands/service.js';
import { registerClientWebSocket } from './client-ws/endpoint.js';
import { defaultHubId, HUB_VERSION, hubUrl, resolveHubConfig, type HubConfig, type HubOptions } from './config.js';
import { registerDiscoveryRoutes } from './discovery/routes.js';
import { HubDiscovery } from './discovery/service.js';
import { registerEnrollmentRoutes } from './enrollment/routes.js';
import { SecurityEvents } from './enrollment/security.js';
import {
  DeviceEnrollment,
  type CreatedEnrollmentToken,
  type CreateTokenRequest,
  type HelloAuthRequest,
  type HelloAuthResult,
} from './enrollment/service.js';
import { AgentGateway } from './gateway/agent-gateway.js';
import { registerAgentWebSocket } from './gateway/ws-agent.js';
import { FleetHealthSampler } from './fleet/health.js';
import { registerFleetRoutes } from './fleet/routes.js';
import { buildApp } from './http/app.js';
import { Accounts } from './auth/accounts.js';
import { Identity } from './auth/identity.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { RequestLimiter } from './auth/request-limiter.js';
import { Revocations } from './auth/revocations.js';
import { counter } from './http/instruments.js';
import { HubStartError, HubStartErrorCodes, type HubStartErrorCode } from './http/errors.js';
import { createMetrics, type HubMetrics } from './metrics.js';
import { MqttBroker } from './mqtt/broker.js';
import { MqttBridge } from './mqtt/bridge.js';
import { BRIDGE_TRANSPORT } from './mqtt/bridge-device.js';
import type { NatsCluster } from './nats/cluster.js';
import { registerMqttWebSocket } from './mqtt/ws.js';
import { registerReportRoutes } from './reports/routes.js';
import { ReportService } from './reports/service.js';
import { DisconnectReasons } from './registry/projection.js';
import { Registry } from './registry/registry.js';
import { openStorage } from './storage/open.js';
import { StorageError } from './storage/errors.js';
import type { Storage } from './storage/types.js';
import { authenticateWithCertificates } from './tls/hello-auth.js';
import { setupHubTls, type HubTls } from './tls/hub-tls.js';
import { registerTlsRoutes } from './tls/routes.js';

/** PEM texts a hub serves TLS with (RunningHub.tls). */
export interface HubTlsMaterial {
  /** Server private key (PKCS#8 PEM). */
  readonly key: string;
  /** Server certificate, PEM (with its chain when the certificate file holds one). */
  readonly cert: string;
  /**
   * CA bundle, PEM: the hub CA, which signs device client certificates (verify client
   * certificates against it), followed by the `--tls-ca` file when one was given.
   */
  readonly ca: string;
}
import { LogIngest } from './logs/ingest.js';
import { logMetrics } from './logs/metrics.js';
import { registerLogRoutes } from './logs/routes.js';
import { TelemetryIngest } from './telemetry/ingest.js';
import { TelemetryMaintenanceJob } from './telemetry/maintenance.js';
import { telemetryMetrics } from './telemetry/metrics.js';
import { registerTelemetryRoutes } from './telemetry/routes.js';

/** A hub that is listening. */
export interface RunningHub {
  /** Base URL of the HTTP API and WebSockets, e.g. `http://localhost:8080` (`https://` with TLS). */
  readonly url: string;
  /**
   * What the hub serves HTTPS and WSS with, for other listeners of the same process (MQTTS);
   * undefined without TLS.
   */
  readonly tls: HubTlsMaterial | undefined;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** The hub's id on the network: its mDNS instance name (docs/discovery.md). */
  readonly hubId: string;
  /** The MQTT port actually bound (useful with `mqttPort: 0`); undefined with `mqttPort: false`. */
  readonly mqttPort: number | undefined;
  /**
   * The password the hub made up for user `admin` on its first start (no `adminPassword`
   * given); shown once, never stored in clear. Undefined on every later start.
   */
  readonly initialAdminPassword: string | undefined;
  /**
   * Creates an enrollment token as the hub itself (actor `system`), for what runs beside the hub
   * in the same process: `flotilla hub --sim N` enrolls its simulated fleet with one.
   */
  createEnrollmentToken(request: CreateTokenRequest): Promise<CreatedEnrollmentToken>;
  /**
   * Stops accepting connections, closes every socket, snapshots the registry and closes
   * storage. Safe to call more than once; every call resolves when the hub is down.
   */
  close(): Promise<void>;
}

function helloAuthentication(
  enrollment: DeviceEnrollment,
  tls: HubTls | undefined,
): (request: HelloAuthRequest) => Promise<HelloAuthResult> {
  const byToken = (request: HelloAuthRequest) => enrollment.authenticate(request);
  const checked = tls ? authenticateWithCertificates(byToken, tls) : byToken;
  // A device on the bridge's broker was authenticated there (the hub never sees its password,
  // nor its certificate): it is admitted if this hub enrolled it. With a token it enrolls as usual.
  return (request) =>
    request.transport === BRIDGE_TRANSPORT && request.token === undefined
      ? enrollment.vouched(request)
      : checked(request);
}

/** A URL as it may be logged: without its password. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unreadable URL)';
  }
}

/** Storage errors that mean "cannot start here", by code; any other is a storage failure. */
const storageStartCodes: Record<string, HubStartErrorCode> = {
  data_dir_locked: HubStartErrorCodes.DATA_DIR_LOCKED,
  data_dir_unwritable: HubStartErrorCodes.DATA_DIR_UNWRITABLE,
  database_unreachable: HubStartErrorCodes.DATABASE_UNREACHABLE,
};

async function openHubStorage(config: HubConfig, logger: Logger): Promise<Storage> {
  try {
    return await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  } catch (err) {
    if (err instanceof StorageError) {
      const code = storageStartCodes[err.code] ?? HubStartErrorCodes.STORAGE_FAILED;
      throw new HubStartError(code, err.message, { cause: err });
    }
    throw new HubStartError(HubStartErrorCodes.STORAGE_FAILED, `cannot open storage: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function listen(app: FastifyInstance, config: HubConfig): Promise<number> {
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new HubStartError(
        HubStartErrorCodes.PORT_IN_USE,
        `port ${config.port} on ${config.host} is already in use: stop the other process or choose another port`,
        { cause: err },
      );
    }
    throw new HubStartError(
      HubStartErrorCodes.LISTEN_FAILED,
      `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : config.port;
}

async function listenMqtt(
  broker: MqttBroker,
  config: HubConfig,
  port: number,
  tls: HubTls | undefined,
): Promise<number> {
  try {
    // With TLS the MQTT port serves MQTTS, with the same certificate as HTTPS.
    return await broker.listen({ port, host: config.host, tls: tls && { key: tls.key, cert: tls.cert, ca: tls.ca } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new HubStartError(
        HubStartErrorCodes.PORT_IN_USE,
        `MQTT port ${port} on ${config.host} is already in use (another MQTT broker?): choose another with --mqtt-port or FLOTILLA_MQTT_PORT (0 picks a free one, off runs without MQTT)`,
        { cause: err },
      );
    }
    throw new HubStartError(
      HubStartErrorCodes.LISTEN_FAILED,
      `cannot listen for MQTT on ${config.host}:${port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Everything a hub is made of, wired but not listening. Tests drive it with `app.inject()`. */
export interface HubParts {
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly gateway: AgentGateway;
  readonly identity: Identity;
  readonly accounts: Accounts;
  /** See RunningHub.initialAdminPassword. */
  readonly initialAdminPassword: string | undefined;
  readonly enrollment: DeviceEnrollment;
  readonly commands: CommandService;
  /** Reports: requested, generated in the background, stored, rendered. */
  readonly reports: ReportService;
  /** Alert rules, the evaluator, alerts and their webhooks (docs/alerts.md). */
  readonly alerts: AlertService;
  /** Samples the fleet's online, offline and alerting counts (the leader only, with several hubs). */
  readonly fleetHealth: FleetHealthSampler;
  /** mDNS: devices seen on the network; advertises the hub once startHub listens (docs/discovery.md). */
  readonly discovery: HubDiscovery;
  /** Undefined without TLS. */
  readonly tls: HubTls | undefined;
  /** The embedded MQTT broker (not listening yet: startHub does that); undefined with `mqttPort: false`. */
  readonly mqtt: MqttBroker | undefined;
  /** The bridge to an external broker (`mqttUrl`), instead of `mqtt`. */
  readonly mqttBridge: MqttBridge | undefined;
  /** The one path telemetry takes to storage; transports call `submit` and watch `pressure`. */
  readonly telemetry: TelemetryIngest;
  /** Rollups and retention, on the hub's clock. */
  readonly telemetryMaintenance: TelemetryMaintenanceJob;
  /** The one path device logs take to storage. */
  readonly logs: LogIngest;
  readonly storage: Storage;
  readonly bus: Bus;
  /** This hub's part in a fleet shared over NATS; undefined without `natsUrl`. */
  readonly nats: NatsCluster | undefined;
  readonly metrics: HubMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Ends device sessions, closes the app and its sockets, snapshots the registry, closes storage. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens storage, rebuilds the registry from snapshot + events, and builds the app with the REST
 * API, `/ws/agent`, `/ws/client` and the MQTT broker (with `/mqtt`). Whatever was opened before a failure is closed again, so a
 * failed start leaves no lock behind.
 */
export async function assembleHub(config: HubConfig, options: { logger: Logger; clock: Clock }): Promise<HubParts> {
  const { logger, clock } = options;
  const startedAt = clock.now();
  const storage = await openHubStorage(config, logger);
  const cleanup: Array<() => Promise<void>> = [() => storage.close()];
  const unwind = async (): Promise<void> => {
    // Last opened, first closed: gateway (sessions end as `hub_shutdown`, not as closed sockets),
    // app (stops accepting, closes the remaining sockets), registry (last snapshot), storage.
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err }, 'error while stopping the hub');
      }
    }
  };

  try {
    const metrics = createMetrics({ clock });
    // The event-loop delay monitor's timer stops with the hub, not with the process: tests run
    // many hubs in one process.
    cleanup.push(async () => metrics.close());
    let nats: NatsCluster | undefined;
    if (config.nats) {
      // Loaded only when asked for: a standalone hub never loads the NATS client.
      const { NatsCluster } = await import('./nats/cluster.js');
      nats = await NatsCluster.open({
        settings: config.nats,
        clock,
        logger: logger.child({ component: 'nats' }),
        graceMs: RESULT_GRACE_MS,
      });
      const cluster = nats;
      // Closed last: the registry's and the gateway's last writes still reach the fleet.
      cleanup.push(() => cluster.close());
    }
    const bus = nats?.bus ?? new Bus((err, subject) => logger.error({ err, subject }, 'bus subscriber failed'));
    let registry: Registry;
    try {
      registry = await Registry.open({
        storage,
        bus,
        clock,
        logger: logger.child({ component: 'registry' }),
        snapshotEvery: config.snapshotEvery,
        metrics,
        // The newest command's sender: a command-rate session is whoever sends the commands.
        commandSender: async (id) => (await storage.commands.listByDevice(id, 1))[0]?.actor,
        ...(nats && { shared: { ownership: nats.ownership } }),
      });
    } catch (err) {
      throw new HubStartError(
        HubStartErrorCodes.STORAGE_FAILED,
        `cannot load the registry: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    cleanup.push(() => registry.close());

    const telemetryInstruments = telemetryMetrics(metrics.registry);
    const telemetry = new TelemetryIngest({
      store: storage.telemetry,
      clock,
      metrics: telemetryInstruments,
      logger: logger.child({ component: 'telemetry' }),
      maxFutureMs: config.telemetry.maxFutureMs,
      maxPastMs: config.telemetry.maxPastMs,
      highWaterPoints: config.telemetry.highWaterPoints,
    });
    const logInstruments = logMetrics(metrics.registry);
    const logs = new LogIngest({
      store: storage.logs,
      settings: config.logs,
      clock,
      metrics: logInstruments,
      logger: logger.child({ component: 'logs' }),
    });
    const telemetryMaintenance = new TelemetryMaintenanceJob({
      store: storage.telemetry,
      settings: config.telemetry,
      clock,
      metrics: telemetryInstruments,
      logger: logger.child({ component: 'telemetry' }),
      retentionTasks: [
        {
          name: 'logs',
          run: async (now) => {
            const deleted = await storage.logs.retain(now - config.logs.retentionMs);
            logInstruments.expired.inc(deleted);
            return deleted;
          },
        },
      ],
    });
    telemetryMaintenance.start();
    // Closed after the gateway (which submits) and before storage: what is queued gets written.
    cleanup.push(async () => {
      await telemetryMaintenance.close();
      await telemetry.close();
      await logs.close();
    });

    const loginFailures = counter(metrics.registry, 'flotilla_login_failures_total', 'Failed logins, by reason', [
      'reason',
    ]);
    // Revoked tokens and changed users reach the live connections opened with them.
    const revocations = new Revocations();
    let identity: Identity;
    let initialAdminPassword: string | undefined;
    try {
      identity = await Identity.open({
        storage,
        clock,
        logger: logger.child({ component: 'auth' }),
        limiter: new LoginLimiter({ clock }),
        revocations,
        onLoginFailure: (reason) => loginFailures.inc({ reason }),
      });
      initialAdminPassword = await identity.bootstrapAdmin(config.adminPassword);
    } catch (err) {
      throw new HubStartError(HubStartErrorCodes.STORAGE_FAILED, `cannot load users: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const tls = config.tls
      ? await setupHubTls(config.tls, { storage, clock, logger: logger.child({ component: 'tls' }) })
      : undefined;
    const accounts = new Accounts({ storage, clock, revocations });
    const auth = { identity, accounts, initialAdminPassword };
    const app = await buildApp({
      registry,
      storage,
      metrics,
      clock,
      logger,
      version: HUB_VERSION,
      startedAt,
      bodyLimit: config.bodyLimit,
      identity,
      accounts,
      requestLimiter: new RequestLimiter({ clock }),
      metricsPublic: config.metricsPublic,
      consoleDir: config.consoleDir,
      ...(tls && { https: { key: tls.key, cert: tls.cert, ca: tls.ca } }),
    });
    cleanup.push(() => app.close());
    const enrollment = new DeviceEnrollment({ storage, bus, clock, logger: logger.child({ component: 'enrollment' }) });
    const security = new SecurityEvents({
      storage,
      bus,
      clock,
      metrics,
      logger: logger.child({ component: 'security' }),
    });
    if (!config.deviceAuth) logger.warn('device authentication is off: any device that says hello is accepted');
    const gateway = new AgentGateway({
      registry,
      bus,
      metrics,
      clock,
      logger: logger.child({ component: 'gateway' }),
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      messageLimit: config.deviceMessageLimit ?? null,
      hubVersion: HUB_VERSION,
      ...(config.deviceAuth && { authenticate: helloAuthentication(enrollment, tls) }),
      onSecurityEvent: (event) => security.record(event),
      ingest: telemetry,
      logs,
    });
    let mqtt: MqttBroker | undefined;
    let mqttBridge: MqttBridge | undefined;
    if (config.mqtt.url !== undefined) {
      try {
        mqttBridge = await MqttBridge.connect({
          url: config.mqtt.url,
          prefix: config.mqtt.prefix,
          mappings: config.mqtt.mappings,
          gateway,
          clock,
          logger: logger.child({ component: 'mqtt-bridge' }),
          heartbeatIntervalMs: config.heartbeatIntervalMs,
        });
      } catch (err) {
        throw new HubStartError(
          HubStartErrorCodes.MQTT_UNREACHABLE,
          `cannot connect to the MQTT broker ${withoutPassword(config.mqtt.url)}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      const bridge = mqttBridge;
      // Closed after the gateway (pushed before it): sessions end as `hub_shutdown` first.
      cleanup.push(() => bridge.close());
    } else if (config.mqttPort !== false) {
      const broker = await MqttBroker.create({
        gateway,
        clock,
        logger: logger.child({ component: 'mqtt' }),
        onSecurityEvent: (event) => security.record(event),
        mappings: config.mqtt.mappings,
      });
      // Closed after the gateway (pushed before it): sessions end as `hub_shutdown` first.
      cleanup.push(() => broker.close());
      registerMqttWebSocket(app, { broker });
      mqtt = broker;
    }
    const unhookRevocation = enrollment.onRevoked((id) => {
      gateway.revoked(id);
      mqtt?.credentialRevoked(id);
      // The records only: a certificate is checked against the live credential anyway.
      tls?.certificates
        .revoke(id)
        .catch((err: unknown) => logger.error({ err, device: id }, 'cannot record the revocation of certificates'));
    });
    // A decommissioned device loses its credential too: it must not come back on its own.
    const unhookDecommission = registry.onDisconnectRequest((id, reason) => {
      if (reason !== DisconnectReasons.DECOMMISSIONED) return;
      enrollment
        .revokeCredential(id, { actor: 'system', correlationId: null, causationId: null })
        .catch((err: unknown) =>
          logger.error({ err, device: id }, 'cannot revoke the credential of a decommissioned device'),
        );
    });
    cleanup.push(async () => {
      unhookRevocation();
      unhookDecommission();
      await gateway.close();
    });
    const commands = new CommandService({
      storage,
      registry,
      gateway,
      bus,
      clock,
      metrics,
      logger: logger.child({ component: 'commands' }),
      ...(nats && { relay: nats.relay }),
    });
    // Before the gateway: callers waiting on a command get its record as it stands.
    cleanup.push(async () => commands.close());
    // Records a stopped hub left open are closed as soon as their deadline has passed.
    void commands.sweep();
    let alerts: AlertService;
    try {
      alerts = await AlertService.open({
        storage,
        registry,
        bus,
        clock,
        metrics,
        logger: logger.child({ component: 'alerts' }),
        settings: config.alerts,
        ...(nats && { leaderOnly: true, leader: nats.alertLeader, onRulesChanged: () => nats?.rulesChanged() }),
      });
    } catch (err) {
      throw new HubStartError(HubStartErrorCodes.STORAGE_FAILED, `cannot load alerts: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // Before the registry and storage close: decided transitions are written first.
    cleanup.push(() => alerts.close());
    const reports = new ReportService({
      storage,
      registry,
      clock,
      logger: logger.child({ component: 'reports' }),
      metrics,
      settings: config.reports,
      hubVersion: HUB_VERSION,
      // Any hub's pass rolls up every hub's writes: the end of a report's range is then in the rollups.
      refreshRollups: () => telemetryMaintenance.run(),
      rollup1mRetentionMs: config.telemetry.rollup1mRetentionMs,
      alerts: {
        between: async (from, to) =>
          (await alerts.history({ from, to })).map((alert) => ({
            id: alert.id,
            rule: alert.ruleName,
            device: alert.device,
            severity: alert.severity,
            firedAt: alert.startedAt,
            resolvedAt: alert.resolvedAt,
          })),
      },
    });
    // Before telemetry and storage: a report being generated reads both.
    cleanup.push(() => reports.close());
    reports.resume().catch((err: unknown) => logger.error({ err }, 'cannot resume pending reports'));
    const discovery = await HubDiscovery.open({
      setting: config.mdns,
      version: HUB_VERSION,
      registry,
      clock,
      logger: logger.child({ component: 'discovery' }),
    });
    // Early in the unwind: the goodbye goes out while the hub is still up.
    cleanup.push(() => discovery.close());
    registerDiscoveryRoutes(app, { discovery });
    registerCommandRoutes(app, { commands, registry });
    registerReportRoutes(app, { reports });
    registerAlertRoutes(app, { alerts });
    registerEnrollmentRoutes(app, { enrollment });
    registerTlsRoutes(app, { tls });
    registerTelemetryRoutes(app, { registry, store: storage.telemetry, clock });
    registerLogRoutes(app, { registry, store: storage.logs });
    const fleetHealth = new FleetHealthSampler({
      registry,
      alerts: storage.alerts,
      store: storage.fleetHealth,
      settings: config.fleetHealth,
      clock,
      logger: logger.child({ component: 'fleet-health' }),
    });
    registerFleetRoutes(app, { store: storage.fleetHealth, clock, intervalMs: fleetHealth.settings.intervalMs });
    // Alone, this hub samples; sharing a fleet over NATS, whichever hub leads does.
    const unhookLeadership = nats
      ? nats.presence.onLeadership((leader) => (leader ? fleetHealth.lead() : fleetHealth.follow()))
      : undefined;
    // Before the registry and storage close: a sample being written is written.
    cleanup.push(async () => {
      unhookLeadership?.();
      await fleetHealth.close();
    });
    registerAgentWebSocket(app, { gateway });
    registerClientWebSocket(app, { bus, clock, metrics, revocations });
    await app.ready();
    if (nats) {
      const cluster = nats;
      // Before the services close: no command request or leadership arrives while they stop.
      cleanup.push(() => cluster.stop());
      await cluster.start({ registry, commands, alerts });
    } else {
      fleetHealth.lead();
    }

    let closing: Promise<void> | undefined;
    return {
      app,
      registry,
      gateway,
      enrollment,
      commands,
      reports,
      alerts,
      fleetHealth,
      discovery,
      tls,
      mqtt,
      mqttBridge,
      telemetry,
      telemetryMaintenance,
      logs,
      storage,
      bus,
      nats,
      metrics,
      clock,
      logger,
      ...auth,
      close: () => (closing ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/**
 * Starts a hub and listens. Startup failures are HubStartErrors with a stable code and a
 * one-line message (`data_dir_locked`, `database_unreachable`, `port_in_use`, ...).
 */
export async function startHub(options: HubOptions = {}): Promise<RunningHub> {
  const config = resolveHubConfig(options);
  const logger = options.logger ?? pino({ level: config.logLevel, name: 'flotilla-hub' });
  const clock = options.clock ?? systemClock;
  const hub = await assembleHub(config, { logger, clock });
  let port: number;
  let mqttPort: number | undefined;
  try {
    port = await listen(hub.app, config);
    if (hub.mqtt && config.mqttPort !== false) mqttPort = await listenMqtt(hub.mqtt, config, config.mqttPort, hub.tls);
  } catch (err) {
    await hub.close();
    throw err;
  }
  const url = hubUrl(config.host, port, hub.tls !== undefined);
  const hubId = config.hubId ?? defaultHubId(port);
  hub.discovery.advertise(port, hub.tls !== undefined, hubId);
  logger.info(
    {
      url,
      mqttPort,
      storage: hub.storage.location,
      engine: hub.storage.engine,
      version: HUB_VERSION,
      ...(hub.tls && { tlsCa: hub.tls.hubCa.fingerprint }),
    },
    'hub listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    hubId,
    mqttPort,
    tls: hub.tls && { key: hub.tls.key, cert: hub.tls.cert, ca: hub.tls.ca },
    initialAdminPassword: hub.initialAdminPassword,
    createEnrollmentToken: (request) =>
      hub.enrollment.createToken(request, { actor: 'system', correlationId: null, causationId: null }),
    close: () => (closing ??= hub.close().then(() => logger.info('hub stopped'))),
  };
}
