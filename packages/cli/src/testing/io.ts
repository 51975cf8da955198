import { ManualClock } from '@flotilla/protocol';
import type { Env, Io } from '../io.js';

/** An Io for tests: captured output, a given environment, a manual clock, signals on demand. */
export interface TestIo extends Io {
  readonly clock: ManualClock;
  out(): string;
  err(): string;
  /** Delivers SIGINT (or another signal) to whatever listens. */
  signal(name?: string): void;
  /** Resolves once stdout contains `text` (bounded wait). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves once stderr contains `text` (bounded wait). */
  waitForError(text: string, timeoutMs?: number): Promise<void>;
}

export function testIo(options: { env?: Env; now?: number; tty?: boolean } = {}): TestIo {
  const text = { out: '', err: '' };
  const handlers = new Set<(signal: string) => void>();
  const writes = new Set<() => void>();
  const waitFor = (stream: 'out' | 'err', wanted: string, timeoutMs = 10_000): Promise<void> => {
    if (text[stream].includes(wanted)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!text[stream].includes(wanted)) return;
        clearTimeout(timer);
        writes.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        writes.delete(check);
        reject(
          new Error(`std${stream} never showed ${JSON.stringify(wanted)}; stdout:\n${text.out}\nstderr:\n${text.err}`),
        );
      }, timeoutMs);
      writes.add(check);
    });
  };
  const written = (): void => {
    for (const w of [...writes]) w();
  };
  const clock = new ManualClock(options.now ?? Date.parse('2025-06-01T12:00:00Z'));
  return {
    stdout: {
      isTTY: options.tty ?? false,
      write(chunk) {
        text.out += chunk;
        written();
      },
    },
    stderr: {
      write(chunk) {
        text.err += chunk;
        written();
      },
    },
    env: options.env ?? {},
    clock,
    onSignal(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    out: () => text.out,
    err: () => text.err,
    signal(name = 'SIGINT') {
      for (const h of [...handlers]) h(name);
    },
    waitForOutput: (wanted, timeoutMs) => waitFor('out', wanted, timeoutMs),
    waitForError: (wanted, timeoutMs) => waitFor('err', wanted, timeoutMs),
  };
}
