import { join } from 'node:path';
import {
  Agent,
  CommandRegistry,
  createLogger,
  registerDrivers,
  type AgentLogger,
  type TelemetryProducer,
} from '@flotilla/agent';
import { DEVICE_ID_PATTERN, systemClock, type Clock } from '@flotilla/protocol';
import { simDrivers } from './commands.js';
import { startInBatches } from './connect.js';
import { SimCredentials } from './credentials.js';
import { SimError, SimErrorCodes } from './errors.js';
import { KIND_SPECS, kindAt } from './kinds/index.js';
import { KINDS, type Kind, type SimKind, type SimRobot } from './kinds/types.js';
import { Rng, randomFrom, seedFromString } from './random.js';
import { Ticker } from './ticker.js';

export interface SimulationOptions {
  /** The hub, as for the agent: http(s):// or ws(s)://. */
  hubUrl: string;
  /** Number of devices, 1..100,000. */
  count: number;
  /** Kind of every device, or `mixed` (default): LeKiwi, XLE, TonyPi, LeKiwi, MCU, repeated. */
  kind?: SimKind;
  /** Telemetry per device per second (default 1; 0 = no telemetry, connections only). */
  rate?: number;
  /** Id prefix (default: the device's kind); ids are `<prefix>-<n>`, n from 1, zero-padded to 4+ digits. */
  idPrefix?: string;
  clock?: Clock;
  /** Master random source; a given source (or seed) gives the same devices and trajectories. */
  random?: () => number;
  /** Seed for the master random source when `random` is not given. */
  seed?: number;
  /** Handshakes in flight while connecting the fleet (default 200). */
  concurrency?: number;
  /** Enrollment token (`fle_…`, multi-use) the devices enroll with on their first connection. */
  token?: string;
  /**
   * Directory of `sim-credentials.json` (0600): each device's credential from enrollment, reused
   * by the next run with the same ids instead of enrolling again. Absent: kept in memory only.
   */
  stateDir?: string;
  /**
   * CA certificate(s), PEM, to verify a `https://` hub with (`flotilla hub --tls --sim` passes the
   * hub's own). Simulated devices never ask for client certificates: a key pair each would cost a
   * 10,000-device fleet seconds of CPU for nothing it tests.
   */
  ca?: string;
  /**
   * Each robot keeps its unacknowledged telemetry on disk in `<telemetryBufferDir>/<id>` (the
   * agent's segment files), surviving a restart of the simulator. Absent: in memory, lost with
   * the process — right for robots inside a hub process, which live and die with their hub.
   */
  telemetryBufferDir?: string;
  /** Cap of each robot's telemetry buffer (MB, default 1 on disk, 0.25 in memory). */
  telemetryBufferMb?: number;
  /** Shared by all agents; default: level FLOTILLA_LOG_LEVEL or `warn`. */
  logger?: AgentLogger;
  /** Heartbeat round trips of every device (ms), for benchmarks. */
  onRttSample?: (rttMs: number) => void;
  /** Aborts the start-up (Ctrl-C while 10,000 devices connect): every agent is stopped and the promise rejects. */
  signal?: AbortSignal;
}

export interface Simulation {
  /** Device ids, in creation order. */
  readonly devices: string[];
  /** Devices whose agent is Connected now. */
  onlineCount(): number;
  /** A copy of a device's simulated state (pose, battery, servos...), or undefined. */
  inspect(id: string): Record<string, unknown> | undefined;
  /** Stops telemetry and closes every connection. */
  stop(): Promise<void>;
}

interface SimDevice {
  readonly id: string;
  readonly robot: SimRobot;
  readonly agent: Agent;
  readonly producers: readonly TelemetryProducer[];
}

const ID_RE = new RegExp(DEVICE_ID_PATTERN);
const MAX_COUNT = 100_000;

function invalid(message: string): SimError {
  return new SimError(SimErrorCodes.INVALID_OPTIONS, message);
}

function validate(options: SimulationOptions): void {
  const { count, rate = 1, kind = 'mixed', concurrency = 200, idPrefix } = options;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)
    throw invalid(`count must be an integer from 1 to ${MAX_COUNT}`);
  if (!(rate >= 0 && rate <= 100)) throw invalid('rate must be from 0 to 100 Hz');
  if (kind !== 'mixed' && !(KINDS as readonly string[]).includes(kind))
    throw invalid(`kind must be one of ${[...KINDS, 'mixed'].join(', ')}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalid('concurrency must be a positive integer');
  if (idPrefix !== undefined && !ID_RE.test(`${idPrefix}-${count}`))
    throw invalid(`idPrefix ${JSON.stringify(idPrefix)} does not make valid device ids`);
}

/**
 * Runs `count` simulated devices, each a real Agent with its own socket, against a hub.
 * Resolves once every device has made its first connection attempt; devices that could not
 * connect keep retrying with their agent's backoff.
 */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  validate(options);
  const { count, rate = 1, kind = 'mixed', concurrency = 200 } = options;
  const clock = options.clock ?? systemClock;
  const master = options.random ?? randomFrom(new Rng(options.seed ?? Math.floor(Math.random() * 2 ** 32)));
  const logger = options.logger ?? createLogger(process.env['FLOTILLA_LOG_LEVEL'] ?? 'warn');
  // Jitter has its own generator: how often a device reconnects depends on socket timing,
  // and must not shift the physics of the others.
  const jitter = randomFrom(new Rng(Math.floor(master() * 2 ** 32)));
  const width = Math.max(4, String(count).length);
  // A fleet that lost its hub comes back over a window that grows with its size.
  const backoff = { baseMs: Math.max(500, Math.min(5_000, count / 5)) };

  const credentials = new SimCredentials(options.stateDir);
  const byId = new Map<string, SimDevice>();
  // One set of drivers and one registry per kind, shared by all its devices.
  const drivers = simDrivers((id) => byId.get(id)?.robot, clock, rate > 0 ? 1000 / rate : 1000);
  const registries = new Map<Kind, CommandRegistry>();
  const registryOf = (k: Kind): CommandRegistry => {
    let r = registries.get(k);
    if (!r) registries.set(k, (r = registerDrivers(new CommandRegistry(), drivers[k])));
    return r;
  };
  const devices: SimDevice[] = [];
  for (let n = 1; n <= count; n++) {
    const k: Kind = kindAt(kind, n - 1);
    const spec = KIND_SPECS[k];
    const id = `${options.idPrefix ?? k}-${String(n).padStart(width, '0')}`;
    const rng = new Rng(Math.floor(master() * 2 ** 32));
    const facts = spec.facts(id, new Rng(seedFromString(id)));
    const robot = spec.create(rng);
    const agent = new Agent({
      hubUrl: options.hubUrl,
      id,
      facts,
      systemFacts: false,
      collectSystemMetrics: false,
      commands: registryOf(k),
      clock,
      random: jitter,
      logger,
      backoff,
      credentials,
      clientCertificate: false,
      ...(options.telemetryBufferDir === undefined
        ? { telemetryBufferMb: options.telemetryBufferMb ?? 0.25 }
        : {
            telemetryBufferDir: join(options.telemetryBufferDir, id),
            telemetryBufferMb: options.telemetryBufferMb ?? 1,
          }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.onRttSample ? { onRttSample: options.onRttSample } : {}),
    });
    // What the robot logs reaches the hub while connected; offline, it is dropped (and counted).
    robot.log = (level, message, fields) => {
      if (agent.state === 'Connected') agent.sendLog(level, message, fields);
    };
    // The kind's telemetry producers, sampled by the shared ticker rather than a timer per device.
    const producers = drivers[k].flatMap((d) => (d.telemetry ? [d.telemetry] : []));
    const device = { id, robot, agent, producers };
    devices.push(device);
    byId.set(id, device);
  }

  let stopped = false;
  const ticker =
    rate > 0
      ? new Ticker(clock, devices, 1000 / rate, (d, dtS) => {
          d.robot.step(dtS);
          if (d.agent.state === 'Stopped') return;
          // Connected or not: the agent buffers what it cannot send yet.
          for (const producer of d.producers) {
            const t = producer.sample(d.id);
            if (t) d.agent.sendTelemetry(t.metrics, t.samples);
          }
        })
      : undefined;

  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    ticker?.stop();
    await Promise.all(devices.map((d) => d.agent.stop()));
    credentials.flush();
  };
  const { signal } = options;
  const onAbort = (): void => void stopAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (!signal?.aborted)
      await startInBatches(
        devices.map((d) => d.agent),
        concurrency,
        () => stopped,
      );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) {
    await stopAll();
    throw signal.reason;
  }

  return {
    devices: devices.map((d) => d.id),
    onlineCount: () => {
      let n = 0;
      for (const d of devices) if (d.agent.state === 'Connected') n++;
      return n;
    },
    inspect: (id) => byId.get(id)?.robot.snapshot(),
    stop: stopAll,
  };
}
