import type { Clock } from '@flotilla/protocol';
import { refClock } from '@flotilla/protocol/clock';

/** Where a command writes. `isTTY` decides colours; `columns` the width of wrapped text. */
export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Everything a command touches outside itself, so `main(argv, io)` runs in tests without
 * spawning a process: output streams, environment, time, and the stop signals.
 */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
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
