/**
 * The agent logs through this small interface, which a pino logger satisfies, so the hub's CLI
 * can hand in its pino instance while the agent itself stays free of the hub's dependencies.
 */
export interface AgentLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const LOGGER_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LoggerLevel = (typeof LOGGER_LEVELS)[number];

// pino's numeric levels, so lines from the agent and the hub sort and filter alike.
const LEVEL_VALUES = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity } as const;

export interface Writable {
  write(chunk: string): unknown;
}

/**
 * One JSON object per line (`{"level":30,"time":...,"msg":...}`), the shape pino writes.
 * Unknown levels fall back to `info` rather than failing: a typo in an environment variable
 * must not keep a robot off the network.
 */
export function createLogger(
  level: string = 'info',
  out: Writable = process.stderr,
  now: () => number = Date.now,
): AgentLogger {
  const threshold =
    LEVEL_VALUES[(LOGGER_LEVELS as readonly string[]).includes(level) ? (level as LoggerLevel) : 'info'];
  const make =
    (value: number) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (value < threshold) return;
      out.write(JSON.stringify({ level: value, time: now(), ...obj, ...(msg === undefined ? {} : { msg }) }) + '\n');
    };
  return { debug: make(20), info: make(30), warn: make(40), error: make(50) };
}

/** A logger that drops everything; the simulator's default for 10,000 agents. */
export const silentLogger: AgentLogger = createLogger('silent');

let defaultLogger: AgentLogger | undefined;

/** Shared by every agent that was given no logger; level from FLOTILLA_LOG_LEVEL. */
export function getDefaultLogger(): AgentLogger {
  defaultLogger ??= createLogger(process.env['FLOTILLA_LOG_LEVEL'] ?? 'info');
  return defaultLogger;
}
