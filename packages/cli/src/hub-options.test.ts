import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUB_DEFAULTS, MIN_HEARTBEAT_INTERVAL_MS } from '@flotilla/hub';
import { hubFlagsMarkdown, hubOptions } from './hub-options.js';
import { flagName, parseOptions } from './options.js';

test('flags win over the environment, the environment over defaults', () => {
  const env = { FLOTILLA_PORT: '7000', FLOTILLA_HOST: '127.0.0.1', FLOTILLA_SIM: '12', FLOTILLA_LOG_LEVEL: 'warn' };
  const { values, sources } = parseOptions(hubOptions, ['--port', '9000', '--sim=3'], env);
  assert.equal(values.port, 9000);
  assert.equal(sources.port, 'flag');
  assert.equal(values.sim, 3);
  assert.equal(values.host, '127.0.0.1');
  assert.equal(sources.host, 'env');
  assert.equal(values.logLevel, 'warn');
  assert.equal(values.data, './.flotilla');
  assert.equal(sources.data, 'default');
});

test('every hub flag can be set from FLOTILLA_<FLAG>', () => {
  const env: Record<string, string> = {
    FLOTILLA_PORT: '1234',
    FLOTILLA_HOST: '::1',
    FLOTILLA_DATA: '/var/lib/flotilla',
    FLOTILLA_DATABASE_URL: 'postgres://u:p@db/fleet',
    FLOTILLA_MQTT_PORT: '1884',
    FLOTILLA_MQTT_URL: 'mqtt://hub:secret@broker:1883',
    FLOTILLA_MQTT_PREFIX: 'site-a',
    FLOTILLA_MQTT_MAP: '/etc/flotilla/mqtt-map.json',
    FLOTILLA_NATS: 'nats://nats:4222',
    FLOTILLA_MDNS: 'off',
    FLOTILLA_NATS_PREFIX: 'fleet-a',
    FLOTILLA_SIM: '7',
    FLOTILLA_SIM_KIND: 'xle',
    FLOTILLA_TLS: 'false',
    FLOTILLA_TLS_CERT: '/etc/flotilla/hub.pem',
    FLOTILLA_TLS_KEY: '/etc/flotilla/hub.key',
    FLOTILLA_TLS_CA: '/etc/flotilla/ca.pem',
    FLOTILLA_TLS_SAN: 'hub.example.com',
    FLOTILLA_REQUIRE_CLIENT_CERT: 'true',
    FLOTILLA_METRICS_PUBLIC: 'true',
    FLOTILLA_HEARTBEAT_INTERVAL: '5s',
    FLOTILLA_DEVICE_RATE: '0',
    FLOTILLA_INSECURE_DEVICES: 'true',
    FLOTILLA_LOG_LEVEL: 'debug',
    FLOTILLA_LOG_FORMAT: 'json',
  };
  for (const key of Object.keys(hubOptions)) {
    assert.ok(
      `FLOTILLA_${flagName(key).toUpperCase().replaceAll('-', '_')}` in env,
      `${key} has a FLOTILLA_ variable in this test`,
    );
  }
  const { values, sources } = parseOptions(hubOptions, [], env);
  assert.deepEqual(values, {
    port: 1234,
    host: '::1',
    data: '/var/lib/flotilla',
    databaseUrl: 'postgres://u:p@db/fleet',
    mqttPort: 1884,
    mqttUrl: 'mqtt://hub:secret@broker:1883',
    mqttPrefix: 'site-a',
    mqttMap: '/etc/flotilla/mqtt-map.json',
    nats: 'nats://nats:4222',
    mdns: 'off',
    natsPrefix: 'fleet-a',
    sim: 7,
    simKind: 'xle',
    tls: false,
    tlsCert: '/etc/flotilla/hub.pem',
    tlsKey: '/etc/flotilla/hub.key',
    tlsCa: '/etc/flotilla/ca.pem',
    tlsSan: ['hub.example.com'],
    requireClientCert: true,
    metricsPublic: true,
    heartbeatInterval: 5000,
    deviceRate: 0,
    insecureDevices: true,
    logLevel: 'debug',
    logFormat: 'json',
  });
  assert.ok(Object.values(sources).every((s) => s === 'env'));
});

test('FLOTILLA_DATABASE_URL wins over DATABASE_URL; FLOTILLA_NATS_URL is accepted; empty variables count as unset', () => {
  const both = parseOptions(hubOptions, [], {
    FLOTILLA_DATABASE_URL: 'postgres://a/x',
    DATABASE_URL: 'postgres://b/y',
  });
  assert.equal(both.values.databaseUrl, 'postgres://a/x');
  assert.equal(
    parseOptions(hubOptions, [], { DATABASE_URL: 'postgresql://b/y' }).values.databaseUrl,
    'postgresql://b/y',
  );
  assert.equal(
    parseOptions(hubOptions, ['--database-url', 'postgres://c/z'], { DATABASE_URL: 'postgres://b/y' }).values
      .databaseUrl,
    'postgres://c/z',
  );
  assert.equal(parseOptions(hubOptions, [], { FLOTILLA_NATS_URL: 'nats://n:4222' }).values.nats, 'nats://n:4222');
  const empty = parseOptions(hubOptions, [], { FLOTILLA_PORT: '', FLOTILLA_TLS: '' });
  assert.equal(empty.values.port, 8080);
  assert.equal(empty.sources.port, 'default');
  assert.equal(empty.values.tls, false);
  assert.equal(parseOptions(hubOptions, [], { FLOTILLA_TLS: 'YES' }).values.tls, true);
});

test("documented defaults are the hub's own", () => {
  const { values } = parseOptions(hubOptions, [], {});
  assert.equal(values.port, HUB_DEFAULTS.port);
  assert.equal(values.host, HUB_DEFAULTS.host);
  assert.equal(values.data, HUB_DEFAULTS.dataDir);
  assert.equal(values.heartbeatInterval, HUB_DEFAULTS.heartbeatIntervalMs);
  assert.equal(values.logLevel, HUB_DEFAULTS.logLevel);
  assert.throws(
    () => parseOptions(hubOptions, ['--heartbeat-interval', String(MIN_HEARTBEAT_INTERVAL_MS - 1)], {}),
    /must be from 1s/,
  );
  assert.equal(
    parseOptions(hubOptions, ['--heartbeat-interval', String(MIN_HEARTBEAT_INTERVAL_MS)], {}).values.heartbeatInterval,
    MIN_HEARTBEAT_INTERVAL_MS,
  );
});

test('the markdown table has one row per flag with its variables and default', () => {
  const md = hubFlagsMarkdown().split('\n');
  assert.equal(md[0], '| Flag | Environment | Default | Description |');
  assert.equal(md.length, 2 + Object.keys(hubOptions).length);
  assert.ok(
    md.includes(
      '| `--port PORT` | `FLOTILLA_PORT` | `8080` | HTTP port of the API, console and WebSockets (0 picks a free port) |',
    ),
  );
  assert.ok(md.some((l) => l.startsWith('| `--database-url URL` | `FLOTILLA_DATABASE_URL`, `DATABASE_URL` |  |')));
  assert.ok(
    md.some((l) => l.startsWith('| `--heartbeat-interval DURATION` | `FLOTILLA_HEARTBEAT_INTERVAL` | `30s` |')),
  );
  assert.ok(
    md.some((l) =>
      l.startsWith("| `--tls` | `FLOTILLA_TLS` |  | serve HTTPS and WSS with a certificate from the hub's own CA"),
    ),
  );
  assert.ok(md.some((l) => l.startsWith('| `--tls-cert FILE` | `FLOTILLA_TLS_CERT` |  |')));
});
