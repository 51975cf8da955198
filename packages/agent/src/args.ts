import { parseArgs } from 'node:util';
import { isDeviceId } from '@flotilla/protocol';
import { DEFAULT_FIND_TIMEOUT_MS, defaultMdnsSetting, parseMdnsSetting, type MdnsSetting } from '@flotilla/discovery';
import { LOGGER_LEVELS } from './logger.js';
import { agentSocketUrl } from './url.js';
import { SHIP_LEVELS, type ShipLevel } from './log-shipping.js';
import type { TeleoperationOptions } from './teleop/options.js';

export const AGENT_USAGE = `Usage: flotilla-agent --hub URL|auto [--id ID] [--state DIR] [--token T] [--ca FILE] [--telemetry-buffer-mb N]
                      [--ship-logs LEVEL] [--mdns on|off|ADDRESS] [--discovery-timeout S] [--hub-id ID]
                      [--config FILE]
                      [--teleop-rate N] [--teleop-ports P,...] [--teleop-processes NAME,...]

Connects this machine to a Flotilla hub as a device and reports its facts and system metrics.

Options:
  --hub URL      hub address: http(s):// or ws(s):// (the agent connects to <URL>/ws/agent);
                 several hubs of one fleet comma-separated, tried in turn when a connection is lost;
                 auto finds a hub on the local network over mDNS (_flotilla._tcp)
  --mdns M       where mDNS runs, to find the hub (--hub auto) and to advertise this device as
                 _flotilla-device._tcp until it enrolls: on (every interface), off, or the IPv4
                 address of one interface (or FLOTILLA_MDNS; default on, or loopback only when
                 --hub is on this machine)
  --discovery-timeout S
                 how long --hub auto browses before giving up (seconds, default 5)
  --hub-id ID    with --hub auto, only the hub with this id (several hubs on one network)
  --config FILE  agent configuration (JSON): the drivers to load, such as the shell driver and
                 the commands it may run (docs/drivers.md; or FLOTILLA_AGENT_CONFIG)
  --id ID        device id; default: the one kept in <state>/identity.json, created once
  --state DIR    state directory (default ~/.flotilla-agent)
  --token T      enrollment token (fle_…) for the first connection (or FLOTILLA_ENROLLMENT_TOKEN,
                 which keeps it off the process list); the credential the hub returns is
                 kept in <state>/identity.json and used from then on
  --ca FILE      CA certificate (PEM) to verify a https:// or wss:// hub with before
                 enrollment (or FLOTILLA_CA); the hub's own CA is kept in <state>/ca.pem
                 after it, with this device's client certificate
  --telemetry-buffer-mb N
                 cap of the on-disk telemetry buffer, <state>/telemetry (default 64, or
                 FLOTILLA_TELEMETRY_BUFFER_MB): telemetry waits there until the hub
                 acknowledges it, offline too; past the cap the oldest is dropped and counted
  --log-level L  debug, info, warn, error or silent (default info, or FLOTILLA_LOG_LEVEL)
  --ship-logs L  ship the agent's own log lines at level L or above to the hub: debug, info,
                 warn, error or off (default warn, or FLOTILLA_SHIP_LOGS)

Teleoperation detection (docs/teleoperation.md):
  --teleop-rate N          hal.v1.motor.differential drive commands per second (over 2 s) that
                           mean a person is driving (default 2; 0 turns it off; or
                           FLOTILLA_TELEOP_RATE)
  --teleop-ports P,...     local TCP ports whose established connections are operator sessions,
                           e.g. a video stream or remote desktop: 8554,5900 (or FLOTILLA_TELEOP_PORTS)
  --teleop-processes N,... process names that are operator sessions, e.g. teleop_console (or
                           FLOTILLA_TELEOP_PROCESSES)
  -h, --help     show this help
`;

/** What the command line asks for; `hubUrl` etc. map one to one onto AgentOptions. */
export interface AgentArgs {
  /** A hub URL, or `auto`: browse mDNS for one (startAgent resolves it). */
  hubUrl: string;
  /** `--mdns`, else FLOTILLA_MDNS, else on (loopback only for a hub on this machine). */
  mdns: MdnsSetting;
  /** How long `--hub auto` browses (ms). */
  discoveryTimeoutMs: number;
  /** With `--hub auto`, only this hub. */
  hubId?: string;
  /** `--config FILE`, else FLOTILLA_AGENT_CONFIG: the drivers to load. */
  configFile?: string;
  /** `--hub A,B,...`: the hubs after the first, tried in turn when a connection is lost. */
  hubUrls?: string[];
  id?: string;
  stateDir?: string;
  token?: string;
  logLevel?: string;
  /** `--ca FILE`, else FLOTILLA_CA. */
  caFile?: string;
  /** `--telemetry-buffer-mb N`, else FLOTILLA_TELEMETRY_BUFFER_MB. */
  telemetryBufferMb?: number;
  /** `--ship-logs`, else FLOTILLA_SHIP_LOGS, else `warn`. */
  shipLogs: ShipLevel;
  /** From the `--teleop-*` flags (or their FLOTILLA_TELEOP_* variables). */
  teleoperation: TeleoperationOptions;
}

export type ParsedAgentArgs =
  { ok: true; help: true } | { ok: true; help: false; options: AgentArgs } | { ok: false; error: string };

/**
 * Parses `flotilla-agent` / `flotilla agent` flags. Never throws and never exits: the caller
 * prints `error` as one line and exits 2, so both commands fail the same way.
 */
export function parseAgentArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedAgentArgs {
  let values: {
    hub?: string;
    id?: string;
    state?: string;
    token?: string;
    ca?: string;
    'telemetry-buffer-mb'?: string;
    'log-level'?: string;
    'ship-logs'?: string;
    'teleop-rate'?: string;
    'teleop-ports'?: string;
    'teleop-processes'?: string;
    mdns?: string;
    'discovery-timeout'?: string;
    'hub-id'?: string;
    config?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        hub: { type: 'string' },
        id: { type: 'string' },
        state: { type: 'string' },
        token: { type: 'string' },
        ca: { type: 'string' },
        'telemetry-buffer-mb': { type: 'string' },
        'log-level': { type: 'string' },
        'ship-logs': { type: 'string' },
        'teleop-rate': { type: 'string' },
        'teleop-ports': { type: 'string' },
        'teleop-processes': { type: 'string' },
        mdns: { type: 'string' },
        'discovery-timeout': { type: 'string' },
        'hub-id': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs explains itself in one sentence, followed by a hint line we do not need
    return { ok: false, error: (err as Error).message.split('\n')[0] ?? 'invalid arguments' };
  }
  if (values.help) return { ok: true, help: true };
  if (values.hub === undefined) return { ok: false, error: 'missing --hub URL (or --hub auto)' };
  const auto = values.hub === 'auto';
  // Several hubs of one fleet (sharing it over NATS), comma-separated: tried in turn.
  const hubs = auto ? [values.hub] : values.hub.split(',').map((url) => url.trim());
  if (!auto) {
    try {
      for (const url of hubs) agentSocketUrl(url);
    } catch (err) {
      return { ok: false, error: `--hub: ${(err as Error).message}` };
    }
  }
  const discovery = discoveryArgs(values, env, auto);
  if (typeof discovery === 'string') return { ok: false, error: discovery };
  if (values.id !== undefined && !isDeviceId(values.id)) {
    return {
      ok: false,
      error: `--id ${JSON.stringify(values.id)}: use 1-128 letters, digits, '-' or '_', starting with a letter or digit`,
    };
  }
  if (values.state === '') return { ok: false, error: '--state must not be empty' };
  if (values['log-level'] !== undefined && !(LOGGER_LEVELS as readonly string[]).includes(values['log-level'])) {
    return { ok: false, error: `--log-level must be one of ${LOGGER_LEVELS.join(', ')}` };
  }
  const shipLogs = values['ship-logs'] ?? (env['FLOTILLA_SHIP_LOGS'] || 'warn');
  if (!(SHIP_LEVELS as readonly string[]).includes(shipLogs))
    return { ok: false, error: `--ship-logs must be one of ${SHIP_LEVELS.join(', ')}` };
  const teleoperation = teleoperationArgs(values, env);
  if (typeof teleoperation === 'string') return { ok: false, error: teleoperation };
  const options: AgentArgs = {
    hubUrl: hubs[0] ?? values.hub,
    shipLogs: shipLogs as ShipLevel,
    teleoperation,
    ...discovery,
  };
  if (hubs.length > 1) options.hubUrls = hubs.slice(1);
  const configFile = values.config ?? (env['FLOTILLA_AGENT_CONFIG'] || undefined);
  if (configFile === '') return { ok: false, error: '--config must not be empty' };
  if (configFile !== undefined) options.configFile = configFile;
  const hubId = values['hub-id'];
  if (hubId !== undefined && !auto) return { ok: false, error: '--hub-id picks among hubs found by --hub auto' };
  if (hubId !== undefined) options.hubId = hubId;
  if (values.id !== undefined) options.id = values.id;
  if (values.state !== undefined) options.stateDir = values.state;
  // From the environment, the token stays out of /proc/<pid>/cmdline and `systemctl status`.
  const token = values.token ?? (env['FLOTILLA_ENROLLMENT_TOKEN'] || undefined);
  if (token !== undefined) options.token = token;
  if (values['log-level'] !== undefined) options.logLevel = values['log-level'];
  const caFile = values.ca ?? (env['FLOTILLA_CA'] || undefined);
  if (caFile === '') return { ok: false, error: '--ca must not be empty' };
  if (caFile !== undefined) options.caFile = caFile;
  const bufferMb = values['telemetry-buffer-mb'] ?? (env['FLOTILLA_TELEMETRY_BUFFER_MB'] || undefined);
  if (bufferMb !== undefined) {
    const mb = Number(bufferMb);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(bufferMb) || !(mb >= 0.1 && mb <= 1024 * 1024)) {
      return {
        ok: false,
        error: `--telemetry-buffer-mb must be a number of MB from 0.1 to 1048576, not ${JSON.stringify(bufferMb)}`,
      };
    }
    options.telemetryBufferMb = mb;
  }
  return { ok: true, help: false, options };
}

/** `--mdns` and `--discovery-timeout`, or an error message. */
function discoveryArgs(
  values: { hub?: string; mdns?: string; 'discovery-timeout'?: string },
  env: Readonly<Record<string, string | undefined>>,
  auto: boolean,
): { mdns: MdnsSetting; discoveryTimeoutMs: number } | string {
  const raw = values.mdns ?? (env['FLOTILLA_MDNS'] || undefined);
  let mdns: MdnsSetting;
  try {
    mdns =
      raw === undefined ? defaultMdnsSetting(auto ? undefined : new URL(values.hub!).hostname) : parseMdnsSetting(raw);
  } catch (err) {
    return `--mdns ${(err as Error).message}`;
  }
  if (auto && mdns === 'off') return '--hub auto finds the hub over mDNS: it cannot be used with --mdns off';
  const timeout = values['discovery-timeout'];
  let discoveryTimeoutMs = DEFAULT_FIND_TIMEOUT_MS;
  if (timeout !== undefined) {
    const s = Number(timeout);
    if (timeout.trim() === '' || !Number.isFinite(s) || s < 0.1 || s > 600)
      return `--discovery-timeout must be a number of seconds from 0.1 to 600, not ${JSON.stringify(timeout)}`;
    discoveryTimeoutMs = Math.round(s * 1000);
  }
  return { mdns, discoveryTimeoutMs };
}

/** The `--teleop-*` flags, or an error message. */
function teleoperationArgs(
  values: { 'teleop-rate'?: string; 'teleop-ports'?: string; 'teleop-processes'?: string },
  env: Readonly<Record<string, string | undefined>>,
): TeleoperationOptions | string {
  const options: TeleoperationOptions = {};
  const rate = values['teleop-rate'] ?? (env['FLOTILLA_TELEOP_RATE'] || undefined);
  if (rate !== undefined) {
    const n = Number(rate);
    if (rate.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1000)
      return '--teleop-rate must be a number of commands per second from 0 to 1000';
    options.commandRate = n === 0 ? false : { minRate: n };
  }
  const list = (raw: string | undefined): string[] =>
    (raw ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  const ports = list(values['teleop-ports'] ?? env['FLOTILLA_TELEOP_PORTS']).map(Number);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
    return '--teleop-ports must be a comma-separated list of TCP ports (1-65535)';
  const processes = list(values['teleop-processes'] ?? env['FLOTILLA_TELEOP_PROCESSES']);
  if (processes.some((p) => p.length > 15)) return '--teleop-processes: Linux process names are at most 15 characters';
  if (ports.length > 0 || processes.length > 0) options.operatorSession = { ports, processes };
  return options;
}
