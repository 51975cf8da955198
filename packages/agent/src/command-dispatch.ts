import type { Clock, CommandPayload, PayloadOf } from '@flotilla/protocol';
import type { CommandRegistry } from './commands.js';
import type { AgentLogger } from './logger.js';

export interface CommandDispatchOptions {
  device: string;
  clock: Clock;
  /** For a command that states no timeout of its own. */
  timeoutMs: number;
  logger: AgentLogger;
  /** Sees each command as it starts (the teleoperation detector counts them). */
  observe?: (command: CommandPayload) => void;
  /** Sends a progress or result frame now; false when not connected (the frame is dropped). */
  send<T extends 'progress' | 'result'>(type: T, payload: PayloadOf<T>): boolean;
}

/**
 * Runs the hub's commands through a registry and answers with progress and a result; keeps what
 * cancels each running command. An agent creates one at its first command: most simulated
 * agents never get one, and 10,000 of them should not each carry an empty map.
 */
export class CommandDispatcher {
  /** Running commands by id, with what cancels each. */
  readonly #inflight = new Map<string, AbortController>();

  constructor(private readonly options: CommandDispatchOptions) {}

  run(command: CommandPayload, registry: CommandRegistry): void {
    // The hub may redeliver a command whose result it has not seen; run each id once at a time.
    if (this.#inflight.has(command.id)) return;
    const { device, clock, timeoutMs, logger, observe, send } = this.options;
    observe?.(command);
    const cancel = new AbortController();
    this.#inflight.set(command.id, cancel);
    const progress = (fraction: number, message?: string): void => {
      send(
        'progress',
        message === undefined
          ? { id: command.id, progress: fraction }
          : { id: command.id, progress: fraction, message },
      );
    };
    void registry.execute(command, device, clock, timeoutMs, { progress, cancel: cancel.signal }).then((result) => {
      this.#inflight.delete(command.id);
      if (!send('result', result)) {
        logger.warn({ device, commandId: command.id, status: result.status }, 'command result dropped: not connected');
      }
    });
  }

  /** A command that already finished (or never ran here) has nothing to cancel. */
  cancel(id: string, reason: string): void {
    this.#inflight.get(id)?.abort(reason);
  }
}
