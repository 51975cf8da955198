import type { Io } from './io.js';
import { renderOptions, wrap, type OptionTable } from './options.js';

/** One `flotilla <name>` command. `run` returns the exit code; it may throw CliError. */
export interface Command {
  readonly name: string;
  /** One line for `flotilla --help`. */
  readonly summary: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

export interface HelpInit {
  usage: string;
  description: string;
  options: OptionTable;
  /** Extra paragraphs after the options (notes, examples). */
  notes?: string;
}

export function helpText({ usage, description, options, notes }: HelpInit): string {
  return (
    [
      `Usage: ${usage}`,
      '',
      ...wrap(description, 80),
      '',
      'Options:',
      renderOptions(options),
      ...(notes ? ['', notes] : []),
    ].join('\n') + '\n'
  );
}
