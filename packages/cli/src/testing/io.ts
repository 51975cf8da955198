import { ManualClock } from '@flotilla/protocol';
import type { Env, Io } from '../io.js';
import { PromptAbortedError } from '../prompt.js';

/** An Io for tests: captured output, a given environment, a manual clock, signals on demand. */
export interface TestIo extends Io {
  readonly clock: ManualClock;
  /** The questions asked on the terminal, with whether what was typed was shown. */
  readonly questions: Array<{ question: string; echo: boolean }>;
  out(): string;
  err(): string;
  /** Delivers SIGINT (or another signal) to whatever listens. */
  signal(name?: string): void;
  /** Resolves once stdout contains `text` (bounded wait). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves once stderr contains `text` (bounded wait). */
  waitForError(text: string, timeoutMs?: number): Promise<void>;
}

export interface TestIoOptions {
  env?: Env;
  now?: number;
  /** stdout is a terminal (colours). */
  tty?: boolean;
  /** What is piped into stdin; when absent stdin is a terminal that answers with `answers`. */
  stdin?: string;
  /** Typed at the terminal's questions, in order; a question beyond them is cancelled (Ctrl-C). */
  answers?: string[];
}

export function testIo(options: TestIoOptions = {}): TestIo {
  const text = { out: '', err: '' };
  const handlers = new Set<(signal: string) => void>();
  const writes = new Set<() => void>();
  // A limit, not a timing: a hub starts in about 3 s on a 2-core machine running several suites at
  // once (27 s before its route validators shared one Ajv pool; packages/hub/src/http/validation.ts).
  const waitFor = (stream: 'out' | 'err', wanted: string, timeoutMs = 30_000): Promise<void> => {
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
  const questions: Array<{ question: string; echo: boolean }> = [];
  const answers = [...(options.answers ?? [])];
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
    stdin: {
      isTTY: options.stdin === undefined,
      readAll: () => Promise.resolve(options.stdin ?? ''),
      ask(question, { echo }) {
        questions.push({ question, echo });
        const answer = answers.shift();
        return answer === undefined ? Promise.reject(new PromptAbortedError()) : Promise.resolve(answer);
      },
    },
    env: options.env ?? {},
    clock,
    questions,
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
