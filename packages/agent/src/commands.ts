import type { Capability, Clock, CommandPayload, ResultPayload } from '@flotilla/protocol';
import { AgentError, AgentErrorCodes } from './errors.js';

export interface CommandContext {
  /** The device the command was sent to; lets one registry serve many simulated devices. */
  device: string;
  /** The command's id, as the hub will correlate the result. */
  id: string;
  /**
   * Aborted when the command times out or the hub cancels it, so long handlers can give up their
   * work (`signal.reason` says which).
   */
  signal: AbortSignal;
  /** Reports how far a long-running command (a job) has got: 0 … 1, with an optional note. */
  progress(fraction: number, message?: string): void;
}

/** What the agent wires into a running command: where progress goes, and the hub's cancel. */
export interface ExecuteHooks {
  progress?: (fraction: number, message?: string) => void;
  /** Aborted when the hub asks to cancel the command. */
  cancel?: AbortSignal;
}

export type CommandArgs = Readonly<Record<string, unknown>>;
export type CommandHandler = (args: CommandArgs, context: CommandContext) => unknown;

const CAPABILITY_RE = /^[a-z][a-z0-9_.-]{0,127}$/;
const ERROR_CODE_RE = /^[a-z][a-z0-9_.-]{0,63}$/;

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Command handlers by capability and command. An Agent owns one unless it is handed a shared
 * registry: the simulator shares one per robot kind across thousands of agents, with handlers
 * finding their device through `context.device`.
 */
export class CommandRegistry {
  private readonly handlers = new Map<string, Map<string, CommandHandler>>();

  register(capability: string, command: string, handler: CommandHandler): void {
    if (!CAPABILITY_RE.test(capability)) {
      throw new AgentError(
        AgentErrorCodes.INVALID_OPTIONS,
        `capability ${JSON.stringify(capability)} must match ${CAPABILITY_RE.source}`,
      );
    }
    if (command === '' || command.length > 128) {
      throw new AgentError(AgentErrorCodes.INVALID_OPTIONS, 'command name must be 1-128 characters');
    }
    let commands = this.handlers.get(capability);
    if (!commands) this.handlers.set(capability, (commands = new Map()));
    if (commands.has(command)) {
      throw new AgentError(
        AgentErrorCodes.DUPLICATE_HANDLER,
        `a handler for ${capability} ${command} is already registered`,
      );
    }
    commands.set(command, handler);
  }

  /** The capabilities that have at least one handler, for `hello`. */
  capabilities(): Capability[] {
    return [...this.handlers.keys()].sort().map((name) => ({ name }));
  }

  /**
   * Runs a command to its result. Never throws: an unknown command, a handler that throws and
   * a handler that overruns `timeoutMs` all become results, which is what the hub waits for.
   * A handler still running at its timeout is told so through its abort signal; whatever it
   * returns afterwards is dropped, since the hub has already been answered.
   */
  execute(
    command: CommandPayload,
    device: string,
    clock: Clock,
    defaultTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    hooks: ExecuteHooks = {},
  ): Promise<ResultPayload> {
    const { id } = command;
    const handler = this.handlers.get(command.capability)?.get(command.command);
    if (!handler) {
      return Promise.resolve({
        id,
        status: 'failed',
        error: {
          code: AgentErrorCodes.UNSUPPORTED_COMMAND,
          message: `this device has no ${command.capability} ${command.command}`,
        },
      });
    }
    const timeoutMs = command.timeoutMs ?? defaultTimeoutMs;
    const controller = new AbortController();
    return new Promise<ResultPayload>((resolve) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        controller.abort();
        resolve({
          id,
          status: 'timed_out',
          error: { code: AgentErrorCodes.COMMAND_TIMED_OUT, message: `no result within ${timeoutMs} ms` },
        });
      }, timeoutMs);
      const finish = (result: ResultPayload): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        hooks.cancel?.removeEventListener('abort', onCancel);
        resolve(result);
      };
      // The hub asked to stop: answer at once; the handler is told through its signal and
      // whatever it returns afterwards is dropped, as after a timeout.
      const onCancel = (): void => {
        const reason = hooks.cancel?.reason;
        controller.abort(reason);
        finish({
          id,
          status: 'cancelled',
          error: {
            code: AgentErrorCodes.COMMAND_CANCELLED,
            message: typeof reason === 'string' && reason !== '' ? reason : 'cancelled by the hub',
          },
        });
      };
      if (hooks.cancel?.aborted) onCancel();
      else hooks.cancel?.addEventListener('abort', onCancel, { once: true });
      const progress = (fraction: number, message?: string): void => {
        if (settled || !Number.isFinite(fraction)) return;
        hooks.progress?.(Math.min(1, Math.max(0, fraction)), message?.slice(0, 256));
      };
      // Promise.resolve().then() turns a handler's synchronous throw into a rejection too.
      Promise.resolve()
        .then(() => handler(command.args, { device, id, signal: controller.signal, progress }))
        .then(
          (result) => finish(result === undefined ? { id, status: 'succeeded' } : { id, status: 'succeeded', result }),
          (err: unknown) => finish({ id, status: 'failed', error: errorOf(err) }),
        );
    });
  }
}

/** A handler's own code when it gave one (CommandError or any error with a code), else a generic one. */
function errorOf(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: typeof code === 'string' && ERROR_CODE_RE.test(code) ? code : AgentErrorCodes.COMMAND_FAILED,
    message,
  };
}
