import { spawn } from 'node:child_process';
import { systemClock, type Clock } from '@flotilla/protocol';
import type { CommandArgs, CommandContext, CommandHandler } from '../commands.js';
import { AgentErrorCodes, CommandError } from '../errors.js';
import type { Driver } from './driver.js';

/** One command the shell driver may run, exactly as configured. */
export interface ShellCommandConfig {
  /** Program and its arguments; run directly, never through a shell, so nothing is interpolated. */
  argv: string[];
  /** Killed (SIGKILL) after this long (ms, default 30,000). */
  timeoutMs?: number;
  /** Kept of stdout and of stderr each (bytes, default 65,536); the rest is read and dropped. */
  maxOutputBytes?: number;
  cwd?: string;
  /** Added to a minimal environment (PATH, HOME, LANG from the agent's own). */
  env?: Record<string, string>;
  /** Callers may append up to this many arguments (`args: [...]`); default 0: none. */
  maxArgs?: number;
}

export interface ShellDriverConfig {
  driver: 'shell';
  /** Capability name the commands are served under (default `shell`). */
  capability?: string;
  commands: Record<string, ShellCommandConfig>;
}

/** What a run returns: the exit code (null when killed by a signal) and what it printed. */
export interface ShellResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Some output was over `maxOutputBytes` and dropped. */
  truncated: boolean;
  durationMs: number;
}

export const SHELL_DEFAULTS = { capability: 'shell', timeoutMs: 30_000, maxOutputBytes: 64 * 1024 } as const;
/** Output kept per stream at most: the result travels in one frame (1 MiB). */
export const MAX_SHELL_OUTPUT_BYTES = 256 * 1024;
const MAX_ARG_BYTES = 4096;

function extraArgs(name: string, config: ShellCommandConfig, args: CommandArgs): string[] {
  for (const key of Object.keys(args)) {
    if (key !== 'args')
      throw new CommandError(
        AgentErrorCodes.INVALID_ARGS,
        `shell ${name} takes only "args", not ${JSON.stringify(key)}`,
      );
  }
  const extra = args['args'];
  if (extra === undefined) return [];
  const max = config.maxArgs ?? 0;
  if (!Array.isArray(extra) || extra.some((a) => typeof a !== 'string' || Buffer.byteLength(a) > MAX_ARG_BYTES))
    throw new CommandError(
      AgentErrorCodes.INVALID_ARGS,
      `args must be an array of strings (each at most ${MAX_ARG_BYTES} bytes)`,
    );
  if (extra.length > max)
    throw new CommandError(
      AgentErrorCodes.INVALID_ARGS,
      max === 0
        ? `shell ${name} takes no extra arguments`
        : `shell ${name} takes at most ${max} extra argument${max === 1 ? '' : 's'}`,
    );
  return extra as string[];
}

/** Collects a stream up to `max` bytes, draining (and counting) the rest so the child never blocks. */
function collector(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push(chunk: Buffer): void {
      const room = max - kept;
      if (room <= 0) {
        dropped = true;
        return;
      }
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (part.length < chunk.length) dropped = true;
      chunks.push(part);
      kept += part.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    get truncated() {
      return dropped;
    },
  };
}

function runCommand(
  name: string,
  config: ShellCommandConfig,
  extra: string[],
  context: CommandContext,
  clock: Clock,
): Promise<ShellResult> {
  const [program, ...fixed] = config.argv;
  const max = Math.min(config.maxOutputBytes ?? SHELL_DEFAULTS.maxOutputBytes, MAX_SHELL_OUTPUT_BYTES);
  const timeoutMs = config.timeoutMs ?? SHELL_DEFAULTS.timeoutMs;
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG']) if (process.env[key] !== undefined) base[key] = process.env[key]!;
  const started = clock.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program!, [...fixed, ...extra], {
      shell: false,
      cwd: config.cwd,
      env: { ...base, ...config.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collector(max);
    const err = collector(max);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // The hub cancelled, or the command's own timeout passed: the process goes too.
    const onAbort = (): void => void child.kill('SIGKILL');
    context.signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      timer.cancel();
      context.signal.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      done();
      reject(
        new CommandError(AgentErrorCodes.SHELL_SPAWN_FAILED, `cannot run shell ${name} (${program}): ${e.message}`),
      );
    });
    child.on('close', (code, signal) => {
      done();
      if (timedOut) {
        reject(
          new CommandError(AgentErrorCodes.SHELL_TIMED_OUT, `shell ${name} ran over ${timeoutMs} ms and was killed`),
        );
        return;
      }
      resolve({
        exitCode: code,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        durationMs: clock.now() - started,
      });
    });
  });
}

/**
 * The built-in `shell` driver: runs the commands its configuration lists, and nothing else. Each
 * is an argv array spawned without a shell (no globbing, no `$VAR`, no `;`), with a timeout after
 * which it is killed, a cap on the output kept, and its exit code in the result. A command not in
 * the list is refused as `unsupported_command` by the agent before anything runs.
 */
export function shellDriver(config: ShellDriverConfig, clock: Clock = systemClock): Driver {
  const handlers: Record<string, CommandHandler> = {};
  for (const [name, command] of Object.entries(config.commands)) {
    handlers[name] = (args, context) => runCommand(name, command, extraArgs(name, command, args), context, clock);
  }
  return { name: 'shell', capabilities: { [config.capability ?? SHELL_DEFAULTS.capability]: handlers } };
}
