import type { Clock, HelloPayload } from '@flotilla/protocol';
import type { CommandRegistry } from './commands.js';
import type { Driver } from './drivers/driver.js';
import type { CredentialStore } from './credentials.js';
import type { AgentLogger } from './logger.js';
import type { ShipLevel } from './log-shipping.js';
import type { TeleoperationOptions } from './teleop/options.js';

export interface AgentOptions {
  /** The hub: http(s):// or ws(s)://; the agent connects to `<hub>/ws/agent`. */
  hubUrl: string;
  /**
   * Other hubs of the same fleet (several hubs sharing it over NATS): each time the connection
   * is lost or cannot be made, the agent tries the next URL in turn (`hubUrl` first), so a
   * device whose hub was killed comes back through another. Same scheme as `hubUrl`.
   */
  hubUrls?: readonly string[];
  /** Device id; when absent, the one kept in `<stateDir>/identity.json` (created once). */
  id?: string;
  /** Where the identity lives (default `~/.flotilla-agent`). */
  stateDir?: string;
  /**
   * Enrollment token (`fle_…`) presented in `hello` until the hub hands this device its own
   * credential, which is kept in `credentials` and presented from then on. Never logged.
   */
  token?: string;
  /**
   * CA certificate(s), PEM, to verify a `wss://` hub with, besides the `ca.pem` the hub handed
   * this device at enrollment (kept in `stateDir`). With neither, the system's trust store.
   */
  ca?: string;
  /** A file holding `ca` (`--ca`, FLOTILLA_CA); read once, at construction. */
  caFile?: string;
  /**
   * Over `wss://`, ask the hub for a client certificate (a CSR in `hello`) when there is none in
   * `stateDir` or it expires within 30 days, keep it, and present it from then on (default true;
   * the simulator turns it off).
   */
  clientCertificate?: boolean;
  /** Where the device credential is kept (default: `credential` in `<stateDir>/identity.json`, mode 0600). */
  credentials?: CredentialStore;
  /**
   * How long to wait before trying again after the hub refused this device's token
   * (`unauthorized`, `credential_revoked`, `enrollment_expired`, `enrollment_exhausted`): retrying
   * fast cannot help, and would hammer the hub (ms, default 300,000).
   */
  authRetryMs?: number;
  /** Facts to add or override (type, model, labels, hardware...). The simulator supplies all of them. */
  facts?: Partial<HelloPayload>;
  /** Collect the host's own facts (hostname, OS, IPs, MAC...). Default true; false for simulated devices. */
  systemFacts?: boolean;
  /** Report CPU, memory, disk, temperature, load and uptime. Default true. */
  collectSystemMetrics?: boolean;
  /** How often system metrics are sampled (ms, default 5,000). */
  metricsIntervalMs?: number;
  /** Longest a system metric goes unsent when it does not change (ms, default 60,000). */
  metricsMaxIntervalMs?: number;
  /** Command handlers shared with other agents; by default each agent has its own. */
  commands?: CommandRegistry;
  /**
   * Drivers (docs/drivers.md): their handlers join the agent's registry (declared in `hello`)
   * and their telemetry producers are sampled from `start()` to `stop()`.
   */
  drivers?: readonly Driver[];
  /** Timeout for commands that do not carry their own `timeoutMs` (ms, default 30,000). */
  commandTimeoutMs?: number;
  /** Reconnect backoff window bounds (ms): base 500, cap 30,000. */
  backoff?: { baseMs?: number; capMs?: number };
  /** A session that lasted this long resets the backoff (ms, default 10,000). */
  stableConnectionMs?: number;
  /** How long to wait from opening the socket to `welcome` (ms, default 10,000). */
  registrationTimeoutMs?: number;
  /**
   * Where unacknowledged telemetry is kept on disk (default `<stateDir>/telemetry` when
   * `stateDir` is given; with neither, in memory: lost with the process). docs/agent.md.
   */
  telemetryBufferDir?: string;
  /** Cap of the telemetry buffer, MB (default 64 on disk, 4 in memory); past it the oldest records are dropped and counted. */
  telemetryBufferMb?: number;
  /** Telemetry records sent and not yet acknowledged, at most (default 1000). */
  telemetryWindow?: number;
  /** How often the on-disk buffer is fsync'd (ms, default 1000). */
  telemetryFlushMs?: number;
  /** Called with each heartbeat round trip (ms); the connection benchmark collects these. */
  onRttSample?: (rttMs: number) => void;
  clock?: Clock;
  /** Uniform random in [0, 1) for backoff jitter. */
  random?: () => number;
  logger?: AgentLogger;
  /** Ship the agent's own log lines at this level or above to the hub as device logs (default `off`; the `flotilla-agent` command ships `warn`). */
  shipLogs?: ShipLevel;
  /**
   * Teleoperation detection (docs/teleoperation.md): by default the `command_rate` indicator on
   * `hal.v1.motor.differential drive`; false turns detection off.
   */
  teleoperation?: TeleoperationOptions | false;
}

export interface AgentStats {
  /** Frames written to the socket. */
  sent: number;
  /** Frames received from the hub (valid or not). */
  received: number;
  /** Events, logs and results dropped because the agent was not connected; telemetry offered after `stop()`. */
  dropped: number;
  /** Inbound frames that failed validation. */
  invalidFrames: number;
  /** Connection attempts made, the first one included. */
  attempts: number;
}
