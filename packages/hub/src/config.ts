import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { MdnsSetting } from '@flotilla/discovery';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/protocol';
import { HubStartError, HubStartErrorCodes } from './http/errors.js';
import { resolveReportSettings, type ReportSettings, type ResolvedReportSettings } from './reports/settings.js';
import type { TlsConfig } from './tls/hub-tls.js';
import { resolveLogSettings, type LogSettings, type ResolvedLogSettings } from './logs/settings.js';
import {
  resolveTelemetrySettings,
  type ResolvedTelemetrySettings,
  type TelemetrySettings,
} from './telemetry/settings.js';
import type { AlertSettings } from './alerts/service.js';
import { FLEET_HEALTH_DEFAULTS, type FleetHealthSettings } from './fleet/health.js';
import { compileMappings, MappingError, type CompiledRule } from './mqtt/mapping.js';
import { NATS_DEFAULTS, type NatsSettings } from './nats/settings.js';

/** Options of `startHub`. Every field is optional; the defaults run a hub on embedded storage. */
export interface HubOptions {
  /** TCP port (default 8080; 0 picks a free one, see `RunningHub.port`). */
  port?: number;
  /** Interface to listen on (default `0.0.0.0`). */
  host?: string;
  /**
   * Port of the embedded MQTT broker (default 1883; 0 picks a free one, see
   * `RunningHub.mqttPort`; `false` runs without MQTT, also without `/mqtt` over WebSocket).
   */
  mqttPort?: number | false;
  /**
   * An external MQTT broker to serve MQTT devices through instead of embedding one
   * (`mqtt://user:pass@host:1883`, `mqtts://`, `ws://`, `wss://`; docs/mqtt.md, "Bridge mode").
   * `mqttPort` is then unused.
   */
  mqttUrl?: string;
  /** With `mqttUrl`: topic levels before `flotilla/` on that broker (`site-a` → `site-a/flotilla/<id>/…`). */
  mqttPrefix?: string;
  /** Topic mapping rules (docs/mqtt.md, "Topic mapping"): an array of rule objects. */
  mqttMappings?: unknown;
  /** A JSON file holding topic mapping rules (an array, or `{"mappings": [...]}`); read at start. */
  mqttMapFile?: string;
  /** Directory of the embedded SQLite store and its lock (default `./.flotilla`). Ignored with `databaseUrl`. */
  dataDir?: string;
  /** PostgreSQL connection string; when set, the hub stores everything there instead of `dataDir`. */
  databaseUrl?: string;
  /** Heartbeat interval told to devices (default 30000, at least 1000); offline after 3 missed. */
  heartbeatIntervalMs?: number;
  /** Events between registry snapshots (default 1000). */
  snapshotEvery?: number;
  /** pino level when no `logger` is given (default `$FLOTILLA_LOG_LEVEL`, else `info`). */
  logLevel?: string;
  /** A pino logger to log through; the hub makes one when absent. */
  logger?: Logger;
  /** Time source (tests pass a ManualClock). */
  clock?: Clock;
  /** Largest HTTP request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /**
   * Password of user `admin`, created on first start when there are no users (default
   * `$FLOTILLA_ADMIN_PASSWORD`; else a random one, returned once as `RunningHub.initialAdminPassword`).
   */
  adminPassword?: string;
  /** Serve `/metrics` without a token, for a Prometheus that cannot send one (default false: needs `metrics:read`). */
  metricsPublic?: boolean;
  /**
   * Devices must present a credential or an enrollment token in `hello` (default true). False
   * accepts any device that says hello: for a lab without enrollment only, and logged as a warning.
   */
  deviceAuth?: boolean;
  /**
   * Messages per second one device may send (default 100; bursts of twice as many pass). Frames
   * over it are refused with an `error` frame `rate_limited`. 0 turns the limit off.
   */
  deviceMessageRate?: number;
  /**
   * Serve HTTPS and WSS (default false). The certificate comes from the hub's own CA, created on
   * the first start and kept in storage, unless `tlsCertFile` and `tlsKeyFile` are given (which
   * turn TLS on by themselves). Devices may present client certificates the CA issued them.
   */
  tls?: boolean;
  /** Server certificate file (PEM, may hold the chain); needs `tlsKeyFile`. */
  tlsCertFile?: string;
  /** Private key file (PEM, unencrypted) of `tlsCertFile`. */
  tlsKeyFile?: string;
  /** CA certificate file (PEM) that issued `tlsCertFile`, handed to clients that must trust it. */
  tlsCaFile?: string;
  /** Extra DNS names or IP addresses for the certificate the hub issues itself. */
  tlsNames?: readonly string[];
  /** Enrolled devices must present their client certificate on every connection (needs TLS). */
  requireClientCert?: boolean;
  /** Telemetry retention, rollup schedule, accepted clock skew and queue size (docs/telemetry.md). */
  telemetry?: TelemetrySettings;
  /** The LLM provider of report summaries and the report queue (docs/reports.md). */
  reports?: ReportSettings;
  /** Device log retention, size limits and queue size (docs/logs.md). */
  logs?: LogSettings;
  /** Alert evaluation tick and webhook queue and retry settings, for embedding and tests (docs/alerts.md). */
  alerts?: AlertSettings;
  /** How often the fleet's counts are sampled for `GET /api/v1/fleet/health` and how long they are kept (ms). */
  fleetHealth?: Partial<FleetHealthSettings>;
  /**
   * Directory of the built web console (`index.html` and `assets/`), served at `/`
   * (docs/console.md). Absent: `/` is a plain landing page linking to the API.
   */
  consoleDir?: string;
  /**
   * mDNS (docs/discovery.md): advertise `_flotilla._tcp` and list devices that advertise
   * `_flotilla-device._tcp` at `GET /api/v1/discovered`, on every interface (`on`) or one
   * (`{ address }`). Default `off` when embedded; `flotilla hub` turns it on.
   */
  mdns?: MdnsSetting;
  /** The hub's id on the network (its mDNS instance name; default `<host name>-<port>`). */
  hubId?: string;
  /**
   * NATS server URL (`nats://host:4222`, several separated by commas): the hub's bus goes on NATS,
   * and hubs on one NATS and one PostgreSQL share one fleet (docs/nats.md). Absent: the
   * in-process bus, one hub.
   */
  natsUrl?: string;
  /** Puts the fleet's subjects under `<prefix>.` and prefixes its KV buckets, to share a NATS server between fleets. */
  natsPrefix?: string;
  /** A hub unheard of for this long is gone: its devices go offline unless they reconnect elsewhere (ms, default 15,000). */
  natsPresenceTtlMs?: number;
  /** How often the registry reads what other hubs appended, besides when NATS tells it (ms, default 5,000). */
  natsCatchUpMs?: number;
}

export interface MqttConfig {
  /** The external broker of bridge mode; undefined: the embedded broker on `mqttPort`. */
  url: string | undefined;
  prefix: string;
  mappings: CompiledRule[];
}

/** HubOptions with every default applied and every value checked. */
export interface HubConfig {
  port: number;
  host: string;
  mqttPort: number | false;
  mqtt: MqttConfig;
  dataDir: string;
  databaseUrl: string | undefined;
  heartbeatIntervalMs: number;
  snapshotEvery: number;
  logLevel: string;
  bodyLimit: number;
  adminPassword: string | undefined;
  metricsPublic: boolean;
  deviceAuth: boolean;
  /** Undefined: no limit. */
  deviceMessageLimit: { rate: number; burst: number } | undefined;
  /** Undefined: plain HTTP. */
  tls: TlsConfig | undefined;
  telemetry: ResolvedTelemetrySettings;
  reports: ResolvedReportSettings;
  logs: ResolvedLogSettings;
  alerts: AlertSettings;
  fleetHealth: FleetHealthSettings;
  consoleDir: string | undefined;
  mdns: MdnsSetting;
  /** Undefined: `<host name>-<port>`, once the port is known. */
  hubId: string | undefined;
  /** Undefined: the in-process bus. */
  nats: NatsSettings | undefined;
}

export const HUB_DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  mqttPort: 1883,
  dataDir: './.flotilla',
  heartbeatIntervalMs: 30_000,
  snapshotEvery: 1000,
  logLevel: 'info',
  bodyLimit: 1024 * 1024,
  deviceMessageRate: 100,
} as const;

/** Most messages per second per device the limit can be set to (above it, turn the limit off). */
export const MAX_DEVICE_MESSAGE_RATE = 1_000_000;

export const MIN_HEARTBEAT_INTERVAL_MS = 1000;
export const MIN_ADMIN_PASSWORD_LENGTH = 8;
const DAY_MS = 86_400_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The hub's version, from its package.json (the file sits beside dist/ and src/ alike). */
export const HUB_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function bad(message: string): HubStartError {
  return new HubStartError(HubStartErrorCodes.BAD_CONFIG, message);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveHubConfig(options: HubOptions): HubConfig {
  const logLevel = options.logLevel ?? process.env['FLOTILLA_LOG_LEVEL'] ?? HUB_DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw bad(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${logLevel}`);
  const host = options.host ?? HUB_DEFAULTS.host;
  if (host.trim() === '') throw bad('host must not be empty');
  const dataDir = options.dataDir ?? HUB_DEFAULTS.dataDir;
  if (dataDir.trim() === '') throw bad('data directory must not be empty');
  const databaseUrl = options.databaseUrl === '' ? undefined : options.databaseUrl;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // Never echo the URL: it may hold a password.
    throw bad('database URL must start with postgres:// or postgresql://');
  }
  return {
    port: integer('port', options.port, HUB_DEFAULTS.port, 0, 65535),
    host,
    mqttPort:
      options.mqttPort === false ? false : integer('MQTT port', options.mqttPort, HUB_DEFAULTS.mqttPort, 0, 65535),
    mqtt: mqttConfig(options),
    dataDir,
    databaseUrl,
    heartbeatIntervalMs: integer(
      'heartbeat interval (ms)',
      options.heartbeatIntervalMs,
      HUB_DEFAULTS.heartbeatIntervalMs,
      MIN_HEARTBEAT_INTERVAL_MS,
      24 * 3600_000,
    ),
    snapshotEvery: integer(
      'snapshot interval (events)',
      options.snapshotEvery,
      HUB_DEFAULTS.snapshotEvery,
      1,
      10_000_000,
    ),
    logLevel,
    bodyLimit: integer('body limit (bytes)', options.bodyLimit, HUB_DEFAULTS.bodyLimit, 1024, 1024 * 1024 * 1024),
    adminPassword: adminPassword(options.adminPassword ?? process.env['FLOTILLA_ADMIN_PASSWORD']),
    metricsPublic: options.metricsPublic ?? false,
    deviceAuth: options.deviceAuth ?? true,
    deviceMessageLimit: messageLimit(
      integer(
        'device message rate (messages/s)',
        options.deviceMessageRate,
        HUB_DEFAULTS.deviceMessageRate,
        0,
        MAX_DEVICE_MESSAGE_RATE,
      ),
    ),
    tls: tlsConfig(options, host),
    telemetry: telemetrySettings(options.telemetry),
    reports: reportSettings(options.reports),
    logs: logSettings(options.logs),
    alerts: options.alerts ?? {},
    fleetHealth: {
      intervalMs: integer(
        'fleet health interval (ms)',
        options.fleetHealth?.intervalMs,
        FLEET_HEALTH_DEFAULTS.intervalMs,
        100,
        DAY_MS,
      ),
      retentionMs: integer(
        'fleet health retention (ms)',
        options.fleetHealth?.retentionMs,
        FLEET_HEALTH_DEFAULTS.retentionMs,
        60_000,
        3650 * DAY_MS,
      ),
    },
    consoleDir: consoleDir(options.consoleDir),
    mdns: options.mdns ?? 'off',
    hubId: hubId(options.hubId),
    nats: natsSettings(options),
  };
}

const NATS_URL_RE = /^(nats|tls|ws|wss):\/\/[^\s,]+(\s*,\s*(nats|tls|ws|wss):\/\/[^\s,]+)*$/;
const NATS_PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function natsSettings(options: HubOptions): NatsSettings | undefined {
  const url = options.natsUrl?.trim();
  if (url === undefined || url === '') return undefined;
  // Never echo the URL: it may hold a user and password.
  if (!NATS_URL_RE.test(url))
    throw bad('NATS URL must start with nats://, tls://, ws:// or wss:// (several: comma-separated)');
  const prefix = options.natsPrefix ?? NATS_DEFAULTS.prefix;
  if (prefix !== '' && !NATS_PREFIX_RE.test(prefix)) {
    throw bad('NATS prefix must be dot-separated tokens of letters, digits, _ and -');
  }
  return {
    url,
    prefix,
    presenceTtlMs: integer(
      'NATS presence TTL (ms)',
      options.natsPresenceTtlMs,
      NATS_DEFAULTS.presenceTtlMs,
      1000,
      3_600_000,
    ),
    catchUpMs: integer('NATS catch-up interval (ms)', options.natsCatchUpMs, NATS_DEFAULTS.catchUpMs, 10, 3_600_000),
  };
}

function consoleDir(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (!existsSync(join(dir, 'index.html'))) {
    throw new HubStartError(
      HubStartErrorCodes.BAD_CONFIG,
      `the web console in ${dir} is not built (no index.html): run npm run build`,
    );
  }
  return dir;
}

/** A hub id is a DNS-SD instance name: one label, no dots. */
function hubId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(value))
    throw bad(`hub id ${JSON.stringify(value)}: use 1-63 letters, digits, '-' or '_'`);
  return value;
}

/** The id a hub goes by on the network when none was given: this machine's name and the port. */
export function defaultHubId(port: number): string {
  const host = (os.hostname().split('.')[0] ?? 'hub').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50) || 'hub';
  return `${host}-${port}`;
}

function tlsConfig(options: HubOptions, host: string): TlsConfig | undefined {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile, tlsCaFile: caFile } = options;
  const files = certFile !== undefined || keyFile !== undefined;
  if (files && (certFile === undefined || keyFile === undefined)) {
    throw bad('a TLS certificate file needs its key file, and a key file its certificate (--tls-cert with --tls-key)');
  }
  if (caFile !== undefined && !files)
    throw bad('--tls-ca names the CA of --tls-cert: give --tls-cert and --tls-key too');
  if (!options.tls && !files) {
    if (options.requireClientCert) throw bad('requiring client certificates needs TLS (--tls)');
    if (options.tlsNames?.length) throw bad('TLS names need TLS (--tls)');
    return undefined;
  }
  for (const name of options.tlsNames ?? []) {
    if (!/^[A-Za-z0-9.:*-]+$/.test(name)) throw bad(`TLS name ${JSON.stringify(name)} is not a DNS name or IP address`);
  }
  return {
    files: files ? { certFile: certFile!, keyFile: keyFile!, ...(caFile !== undefined && { caFile }) } : undefined,
    names: [...(options.tlsNames ?? [])],
    requireClientCert: options.requireClientCert ?? false,
    host,
  };
}

const MQTT_URL_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

function mqttConfig(options: HubOptions): MqttConfig {
  const url = options.mqttUrl === '' ? undefined : options.mqttUrl;
  if (url !== undefined) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      // Never echo the URL: it may hold the hub's broker password.
      throw bad('the MQTT URL is not a URL (mqtt://host:1883, mqtts://, ws:// or wss://)');
    }
    if (!MQTT_URL_PROTOCOLS.includes(protocol))
      throw bad('the MQTT URL must start with mqtt://, mqtts://, ws:// or wss://');
  }
  const prefix = options.mqttPrefix ?? '';
  if (prefix !== '') {
    if (url === undefined) throw bad('an MQTT topic prefix needs an external broker (--mqtt-url)');
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix) || prefix.length > 128)
      throw bad(
        `MQTT topic prefix ${JSON.stringify(prefix)} must be topic levels of letters, digits, '.', '_' and '-'`,
      );
  }
  return { url, prefix, mappings: mqttMappings(options) };
}

function mqttMappings(options: HubOptions): CompiledRule[] {
  let rules = options.mqttMappings;
  if (options.mqttMapFile !== undefined) {
    if (rules !== undefined) throw bad('give MQTT mapping rules as objects or as a file, not both');
    let text: string;
    try {
      text = readFileSync(options.mqttMapFile, 'utf8');
    } catch (err) {
      throw bad(`cannot read the MQTT mapping file ${options.mqttMapFile}: ${(err as Error).message}`);
    }
    try {
      rules = JSON.parse(text) as unknown;
    } catch (err) {
      throw bad(`the MQTT mapping file ${options.mqttMapFile} is not JSON: ${(err as Error).message}`);
    }
    if (typeof rules === 'object' && rules !== null && !Array.isArray(rules) && 'mappings' in rules)
      rules = rules.mappings;
  }
  if (rules === undefined) return [];
  try {
    return compileMappings(rules);
  } catch (err) {
    if (err instanceof MappingError) throw bad(err.message);
    throw err;
  }
}

function telemetrySettings(settings: TelemetrySettings | undefined): ResolvedTelemetrySettings {
  try {
    return resolveTelemetrySettings(settings);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

function reportSettings(settings: ReportSettings | undefined): ResolvedReportSettings {
  try {
    return resolveReportSettings(settings);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

function logSettings(settings: LogSettings | undefined): ResolvedLogSettings {
  try {
    return resolveLogSettings(settings);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

/** A burst of two seconds' worth: a device that was quiet may catch up at once. */
function messageLimit(rate: number): HubConfig['deviceMessageLimit'] {
  return rate === 0 ? undefined : { rate, burst: rate * 2 };
}

function adminPassword(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  // Never echo the password itself.
  if (value.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw bad(`the admin password must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`);
  }
  return value;
}

/** The URL clients use to reach a hub listening on `host:port` (a wildcard host means this machine). */
export function hubUrl(host: string, port: number, secure = false): string {
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `${secure ? 'https' : 'http'}://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
