import { CliError, CliErrorCodes, ExitCodes } from './errors.js';
import type { Input } from './io.js';

/** The user gave up at a prompt (Ctrl-C or Ctrl-D): nothing was done. */
export class PromptAbortedError extends CliError {
  override readonly name = 'PromptAbortedError';
  constructor() {
    super(CliErrorCodes.FAILED, 'cancelled', ExitCodes.INTERRUPTED);
  }
}

interface TtyStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = ['\u007f', '\b'];

/**
 * Reads a line from a terminal in raw mode, so that with `echo: false` the terminal shows
 * nothing of a password (not even its length). Questions and the final newline go to `out`
 * (stderr), which keeps stdout clean for whatever the command prints.
 */
function askRaw(stdin: TtyStream, out: NodeJS.WritableStream, question: string, echo: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      out.write('\n');
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === CTRL_C || (ch === CTRL_D && line === '')) return finish(new PromptAbortedError());
        if (BACKSPACE.includes(ch)) {
          if (line.length > 0) {
            line = line.slice(0, -1);
            if (echo) out.write('\b \b');
          }
        } else if (ch >= ' ') {
          line += ch;
          if (echo) out.write(ch);
        }
      }
    };
    out.write(question);
    stdin.setRawMode?.(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The process's stdin: questions on a terminal, or whatever is piped in. */
export function terminalInput(stdin: TtyStream, out: NodeJS.WritableStream): Input {
  return {
    isTTY: stdin.isTTY === true,
    async readAll() {
      let text = '';
      stdin.setEncoding('utf8');
      for await (const chunk of stdin) text += String(chunk);
      return text;
    },
    ask: (question, { echo }) => askRaw(stdin, out, question, echo),
  };
}
