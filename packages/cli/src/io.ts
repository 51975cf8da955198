import type { Clock } from '@flotilla/protocol';
import { refClock } from '@flotilla/protocol/clock';
import { terminalInput } from './prompt.js';

/** Where a command writes. `isTTY` decides colours; `columns` the width of wrapped text. */
export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a command reads what the user types or pipes in (a password, for `flotilla login`). */
export interface Input {
  /** A terminal, where a question can be asked, rather than a pipe or a file. */
  readonly isTTY: boolean;
  /** Everything until the end of the input. */
  readAll(): Promise<string>;
  /**
   * Asks `question` on the terminal and resolves with the line typed, without the newline. With
   * `echo: false` nothing typed is shown. Rejects with PromptAbortedError on Ctrl-C or Ctrl-D.
   */
  ask(question: string, options: { echo: boolean }): Promise<string>;
}

/**
 * Everything a command touches outside itself, so `main(argv, io)` runs in tests without
 * spawning a process: output streams, environment, time, and the stop signals.
 */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly stdin: Input;
  readonly env: Env;
  readonly clock: Clock;
  /** Calls `handler` on SIGINT or SIGTERM until the returned function is called. */
  onSignal(handler: (signal: string) => void): () => void;
}

/** The real process. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: terminalInput(process.stdin, process.stderr),
    env: process.env,
    // From the clock-only entry: the main one compiles every schema, time `flotilla devices` should not spend.
    clock: refClock,
    onSignal(handler) {
      const signals = ['SIGINT', 'SIGTERM'] as const;
      const listeners = signals.map((s) => {
        const listener = (): void => handler(s);
        process.on(s, listener);
        return [s, listener] as const;
      });
      return () => listeners.forEach(([s, l]) => process.off(s, l));
    },
  };
}
