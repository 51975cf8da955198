import { X509Certificate } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes } from '../errors.js';
import { hubOptions, type HubValues } from '../hub-options.js';
import type { Io } from '../io.js';
import { defaultMdnsSetting, type MdnsSetting } from '@flotilla/discovery';
import { parseOptions } from '../options.js';
import { redactUrl } from '../values.js';

const help = helpText({
  usage: 'flotilla hub [options]',
  description:
    'Runs the hub: HTTP API, device gateway (/ws/agent), MQTT broker (--mqtt-port, /mqtt), live stream (/ws/client), metrics and storage. Data is kept in an embedded SQLite store in --data unless --database-url names a PostgreSQL server. Ctrl-C stops the simulated robots, then the hub.',
  options: hubOptions,
  notes:
    'Every option can also be set in the environment as FLOTILLA_<OPTION> (FLOTILLA_PORT,\nFLOTILLA_DATA, ...); an option on the command line wins over the environment.\n\nExamples:\n  flotilla hub --sim 12\n  FLOTILLA_PORT=9090 flotilla hub --data /var/lib/flotilla\n  flotilla hub --database-url postgres://flotilla@db/flotilla --heartbeat-interval 10s',
});

/** A second Ctrl-C this long after the first gives up on a clean shutdown (one sooner is the same keypress, delivered twice by a wrapper). */
const FORCE_AFTER_MS = 1000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `http://host:8080` → `mqtt://host:<mqttPort>` (`mqtts://` when the hub serves TLS). */
function mqttUrl(url: string, mqttPort: number): string {
  const { protocol, hostname } = new URL(url);
  return `${protocol === 'https:' ? 'mqtts' : 'mqtt'}://${hostname}:${mqttPort}`;
}

function mqttDevices(url: string, ws: string, mqttPort: number | undefined, values: HubValues): string {
  if (values.mqttUrl !== undefined) {
    const topics = values.mqttPrefix === undefined ? 'flotilla/' : `${values.mqttPrefix}/flotilla/`;
    return `through ${redactUrl(values.mqttUrl)} (bridge, topics ${topics}…)`;
  }
  return mqttPort === undefined ? 'off (--mqtt-port off)' : `${mqttUrl(url, mqttPort)} and ${ws}/mqtt`;
}

function banner(
  url: string,
  mqttPort: number | undefined,
  mdns: string,
  version: string,
  values: HubValues,
  adminPassword: string | undefined,
  caFingerprint: string | undefined,
): string {
  const ws = url.replace(/^http/, 'ws');
  const storage = values.databaseUrl
    ? `PostgreSQL ${redactUrl(values.databaseUrl)}`
    : `SQLite in ${resolvePath(values.data)}`;
  const rows: [string, string][] = [
    ['Console and API', `${url}/`],
    ['API docs', `${url}/api/docs`],
    ['Metrics', `${url}/metrics`],
    ['mDNS', mdns],
    ['Agents connect to', `${ws}/ws/agent`],
    ['MQTT devices', mqttDevices(url, ws, mqttPort, values)],
    ...(caFingerprint === undefined
      ? []
      : [['Hub CA', `${url}/api/v1/tls/ca (fingerprint ${caFingerprint})`] as [string, string]]),
    ['Storage', storage],
    ...(values.nats === undefined
      ? []
      : [
          [
            'NATS',
            `${redactUrl(values.nats)}${values.natsPrefix === undefined ? '' : ` (prefix ${values.natsPrefix})`}: fleet shared with the other hubs on it`,
          ] as [string, string],
        ]),
    // A made-up password exists only now: the hub stores its hash, so it is shown this once.
    ['Admin login', adminPassword === undefined ? 'admin (password set on first start)' : `admin / ${adminPassword}`],
  ];
  if (values.insecureDevices) rows.push(['Devices', 'ANY device is accepted, without enrollment (--insecure-devices)']);
  return [`Flotilla hub ${version} is running`, ...rows.map(([k, v]) => `  ${k.padEnd(18)}${v}`)].join('\n') + '\n';
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(hubOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }

  // Listen for Ctrl-C before starting anything, so one pressed during start-up is not lost.
  let stopSignal: string | undefined;
  let firstSignalAt = 0;
  let stopRequested = (): void => {};
  const stop = new Promise<void>((resolve) => (stopRequested = resolve));
  let forceExit = (): void => {};
  const forced = new Promise<number>((resolve) => (forceExit = () => resolve(ExitCodes.INTERRUPTED)));
  const simStart = new AbortController();
  const dispose = io.onSignal((signal) => {
    if (stopSignal === undefined) {
      stopSignal = signal;
      firstSignalAt = io.clock.now();
      simStart.abort();
      stopRequested();
    } else if (io.clock.now() - firstSignalAt >= FORCE_AFTER_MS) {
      io.stderr.write('flotilla hub: stopped before a clean shutdown\n');
      forceExit();
    }
  });

  try {
    const hubModule = await import('@flotilla/hub');
    // The web console's built files, served at `/` (packages/console).
    const { consoleDir } = await import('@flotilla/console');
    const mdns = values.mdns ?? defaultMdnsSetting(values.host);
    let hub;
    try {
      hub = await hubModule.startHub({
        port: values.port,
        host: values.host,
        mqttPort: values.mqttPort,
        ...(values.mqttUrl !== undefined && { mqttUrl: values.mqttUrl }),
        ...(values.mqttPrefix !== undefined && { mqttPrefix: values.mqttPrefix }),
        ...(values.mqttMap !== undefined && { mqttMapFile: values.mqttMap }),
        dataDir: values.data,
        heartbeatIntervalMs: values.heartbeatInterval,
        metricsPublic: values.metricsPublic,
        deviceMessageRate: values.deviceRate,
        deviceAuth: !values.insecureDevices,
        mdns,
        tls: values.tls,
        ...(values.tlsCert !== undefined && { tlsCertFile: values.tlsCert }),
        ...(values.tlsKey !== undefined && { tlsKeyFile: values.tlsKey }),
        ...(values.tlsCa !== undefined && { tlsCaFile: values.tlsCa }),
        tlsNames: values.tlsSan,
        consoleDir,
        requireClientCert: values.requireClientCert,
        ...(io.env['FLOTILLA_ADMIN_PASSWORD'] ? { adminPassword: io.env['FLOTILLA_ADMIN_PASSWORD'] } : {}),
        logLevel: values.logLevel,
        ...(usePrettyLogs(values.logFormat ?? 'auto', io)
          ? { logger: await prettyLogger(values.logLevel ?? 'info') }
          : {}),
        ...(values.databaseUrl ? { databaseUrl: values.databaseUrl } : {}),
        ...(values.nats !== undefined && { natsUrl: values.nats }),
        ...(values.natsPrefix !== undefined && { natsPrefix: values.natsPrefix }),
      });
    } catch (err) {
      if (err instanceof hubModule.HubStartError)
        throw new CliError(CliErrorCodes.FAILED, err.message, ExitCodes.FAILURE, { cause: err });
      throw err;
    }
    io.stdout.write(
      banner(
        hub.url,
        hub.mqttPort,
        mdnsRow(mdns, hub.hubId),
        hubModule.HUB_VERSION,
        values,
        hub.initialAdminPassword,
        caFingerprint(hub.tls),
      ),
    );

    let sim: { stop(): Promise<void> } | undefined;
    if (values.sim > 0 && stopSignal === undefined) {
      io.stdout.write(`Starting ${values.sim} simulated robot${values.sim === 1 ? '' : 's'} (${values.simKind})\n`);
      try {
        const { startSimulation } = await import('@flotilla/sim');
        // The simulated robots enroll like real ones: with a token the hub creates for them
        // (actor `system`), keeping their credentials in the data directory for the next start.
        const enrollment = await hub.createEnrollmentToken({
          uses: values.sim,
          expiresInMs: 24 * 3600_000,
          labels: { simulated: 'true' },
        });
        sim = await startSimulation({
          hubUrl: hub.url,
          count: values.sim,
          kind: values.simKind,
          signal: simStart.signal,
          token: enrollment.token,
          stateDir: values.data,
          ...(hub.tls && { ca: hub.tls.ca }),
        });
      } catch (err) {
        if (!simStart.signal.aborted) {
          await hub.close();
          throw new CliError(
            CliErrorCodes.FAILED,
            `cannot start the simulated robots: ${message(err)}`,
            ExitCodes.FAILURE,
            { cause: err },
          );
        }
      }
    }
    if (stopSignal === undefined) io.stdout.write('Press Ctrl-C to stop.\n');

    await stop;
    io.stderr.write('Stopping…\n');
    const shutdown = (async () => {
      try {
        await sim?.stop();
        await hub.close();
      } catch (err) {
        throw new CliError(CliErrorCodes.FAILED, `shutdown failed: ${message(err)}`, ExitCodes.FAILURE, { cause: err });
      }
      io.stderr.write('Stopped.\n');
      return ExitCodes.OK;
    })();
    return await Promise.race([shutdown, forced]);
  } finally {
    dispose();
  }
}

export const hubCommand: Command = {
  name: 'hub',
  summary: 'Run the hub (API, device gateway, live stream, storage)',
  run,
};

function mdnsRow(setting: MdnsSetting, hubId: string): string {
  if (setting === 'off') return 'off (--mdns off)';
  const where = setting === 'on' ? 'every interface' : setting.address;
  return `_flotilla._tcp as ${hubId} on ${where}`;
}

/** SHA-256 fingerprint of the first certificate in the hub's CA bundle (the hub CA), as browsers show it. */
function caFingerprint(tls: { ca: string } | undefined): string | undefined {
  if (!tls) return undefined;
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(tls.ca)?.[0];
  return first === undefined ? undefined : new X509Certificate(first).fingerprint256;
}

function usePrettyLogs(format: 'auto' | 'json' | 'pretty', io: Io): boolean {
  return format === 'pretty' || (format === 'auto' && io.stdout.isTTY === true);
}

/** pino with pino-pretty as a synchronous stream: readable lines on a terminal, same fields. */
async function prettyLogger(level: string): Promise<Logger> {
  const [{ pino }, { default: pretty }] = await Promise.all([import('pino'), import('pino-pretty')]);
  return pino(
    { level, name: 'flotilla-hub' },
    pretty({ sync: true, colorize: true, singleLine: true, ignore: 'pid,hostname,name' }),
  );
}
