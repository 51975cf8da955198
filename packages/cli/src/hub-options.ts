import { flag, list, option, renderMarkdownTable, type OptionValues } from './options.js';
import * as v from './values.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SIM_KINDS = ['mixed', 'lekiwi', 'xle', 'tonypi', 'mcu'] as const;
/** Largest fleet `--sim` starts in the hub's process (the simulator's own limit is 100,000). */
export const MAX_SIM = 100_000;

/**
 * The flags of `flotilla hub`: the one place they are described. `--help`, the markdown table
 * in docs/cli.md (and the README) and the environment fallbacks all come from here. Every flag
 * can be set as `FLOTILLA_<FLAG>`; a flag on the command line wins over the environment.
 */
export const hubOptions = {
  port: option(v.port, {
    valueName: 'PORT',
    env: ['FLOTILLA_PORT'],
    default: 8080,
    description: 'HTTP port of the API, console and WebSockets (0 picks a free port)',
  }),
  host: option(v.nonEmpty, {
    valueName: 'HOST',
    env: ['FLOTILLA_HOST'],
    default: '0.0.0.0',
    description: 'interface to listen on',
  }),
  data: option(v.nonEmpty, {
    valueName: 'DIR',
    env: ['FLOTILLA_DATA'],
    default: './.flotilla',
    description: 'directory of the embedded SQLite store (one hub per directory); unused with --database-url',
  }),
  databaseUrl: option((raw, source) => v.url(raw, source, ['postgres:', 'postgresql:']), {
    valueName: 'URL',
    env: ['FLOTILLA_DATABASE_URL', 'DATABASE_URL'],
    description:
      'PostgreSQL connection string (postgres://...); the hub then stores everything there instead of --data',
  }),
  mqttPort: option(v.portOrOff, {
    valueName: 'PORT',
    env: ['FLOTILLA_MQTT_PORT'],
    default: 1883,
    description:
      'port of the embedded MQTT broker for devices (MQTT 3.1.1; also over WebSocket at /mqtt); 0 picks a free port, off runs without MQTT',
  }),
  mqttUrl: option((raw, source) => v.url(raw, source, ['mqtt:', 'mqtts:', 'ws:', 'wss:']), {
    valueName: 'URL',
    env: ['FLOTILLA_MQTT_URL'],
    description:
      'serve MQTT devices through this external broker (mqtt://user:pass@host:1883, mqtts://, ws://, wss://; MQTT 5) instead of embedding one; --mqtt-port is then unused. The broker authenticates devices and enforces their topic ACL (docs/mqtt.md)',
  }),
  mqttPrefix: option(v.nonEmpty, {
    valueName: 'LEVELS',
    env: ['FLOTILLA_MQTT_PREFIX'],
    description: 'with --mqtt-url: topic levels before flotilla/ on that broker (site-a: site-a/flotilla/<id>/...)',
  }),
  mqttMap: option(v.nonEmpty, {
    valueName: 'FILE',
    env: ['FLOTILLA_MQTT_MAP'],
    description:
      'JSON file of topic mapping rules, so an existing fleet keeps its own MQTT topics and payloads (docs/mqtt.md, "Topic mapping")',
  }),
  nats: option((raw, source) => v.url(raw, source, ['nats:', 'tls:', 'ws:', 'wss:']), {
    valueName: 'URL',
    env: ['FLOTILLA_NATS', 'FLOTILLA_NATS_URL'],
    description:
      'NATS server (nats://host:4222, JetStream on): the bus goes on NATS, and hubs on one NATS and one PostgreSQL (--database-url) share one fleet',
  }),
  natsPrefix: option(v.nonEmpty, {
    valueName: 'PREFIX',
    env: ['FLOTILLA_NATS_PREFIX'],
    description:
      'put the fleet under PREFIX. on NATS (subjects and KV buckets), to run several fleets on one NATS server; unused without --nats',
  }),
  mdns: option(v.mdns, {
    valueName: 'MODE',
    env: ['FLOTILLA_MDNS'],
    description:
      'advertise the hub as _flotilla._tcp over mDNS and list devices that advertise themselves (GET /api/v1/discovered): on (every interface), off, or the IPv4 address of one interface; default: on, or only on loopback when --host is a loopback address',
  }),
  sim: option((raw, source) => v.integer(raw, source, 0, MAX_SIM), {
    valueName: 'N',
    env: ['FLOTILLA_SIM'],
    default: 0,
    description: 'start N simulated robots in the same process once the hub listens',
  }),
  simKind: option((raw, source) => v.choice(raw, source, SIM_KINDS), {
    valueName: 'KIND',
    env: ['FLOTILLA_SIM_KIND'],
    default: 'mixed',
    description: `kind of the simulated robots: ${SIM_KINDS.join(', ')}`,
  }),
  tls: flag({
    env: ['FLOTILLA_TLS'],
    description:
      "serve HTTPS and WSS with a certificate from the hub's own CA (created on first start, kept in storage); devices may present client certificates it issued them",
  }),
  tlsCert: option(v.nonEmpty, {
    valueName: 'FILE',
    env: ['FLOTILLA_TLS_CERT'],
    description:
      'serve this certificate (PEM, may hold the chain) instead of one from the hub CA; needs --tls-key, implies --tls',
  }),
  tlsKey: option(v.nonEmpty, {
    valueName: 'FILE',
    env: ['FLOTILLA_TLS_KEY'],
    description: 'private key (PEM, unencrypted) of --tls-cert',
  }),
  tlsCa: option(v.nonEmpty, {
    valueName: 'FILE',
    env: ['FLOTILLA_TLS_CA'],
    description: 'CA certificate (PEM) that issued --tls-cert, handed to devices and tools that must trust it',
  }),
  tlsSan: list(v.nonEmpty, {
    valueName: 'NAME',
    env: ['FLOTILLA_TLS_SAN'],
    description:
      'another DNS name or IP address for the certificate from the hub CA (besides localhost, 127.0.0.1, ::1 and the host name); repeatable',
  }),
  requireClientCert: flag({
    env: ['FLOTILLA_REQUIRE_CLIENT_CERT'],
    description:
      'enrolled devices must present the client certificate the hub CA issued them (enrolling still works without one); needs TLS',
  }),
  metricsPublic: flag({
    env: ['FLOTILLA_METRICS_PUBLIC'],
    description:
      'serve /metrics without a token, for a Prometheus that cannot send one (keep it off the public network)',
  }),
  heartbeatInterval: option((raw, source) => v.duration(raw, source, 1000, 86_400_000), {
    valueName: 'DURATION',
    env: ['FLOTILLA_HEARTBEAT_INTERVAL'],
    default: 30_000,
    defaultText: '30s',
    description: 'how often devices send a heartbeat (ms, or 30s, 1m); a device is offline after 3 missed, at least 1s',
  }),
  deviceRate: option((raw, source) => v.integer(raw, source, 0, 1_000_000), {
    valueName: 'N',
    env: ['FLOTILLA_DEVICE_RATE'],
    default: 100,
    description:
      'messages per second one device may send (bursts of twice as many pass); frames over it are refused with rate_limited; 0: no limit',
  }),
  insecureDevices: flag({
    env: ['FLOTILLA_INSECURE_DEVICES'],
    description:
      'accept any device that says hello, without a credential or enrollment token (a closed lab only; logged as a warning)',
  }),
  logLevel: option((raw, source) => v.choice(raw, source, LOG_LEVELS), {
    valueName: 'LEVEL',
    env: ['FLOTILLA_LOG_LEVEL'],
    default: 'info',
    description: `log level: ${LOG_LEVELS.join(', ')}`,
  }),
  logFormat: option((raw, source) => v.choice(raw, source, LOG_FORMATS), {
    valueName: 'FORMAT',
    env: ['FLOTILLA_LOG_FORMAT'],
    default: 'auto',
    description:
      'log lines as json (one object a line, for collectors) or pretty (for people); auto: pretty on a terminal',
  }),
};

const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

export type HubValues = OptionValues<typeof hubOptions>;

/** The hub's configuration table in markdown, for the README and docs/cli.md. */
export function hubFlagsMarkdown(): string {
  return renderMarkdownTable(hubOptions);
}
