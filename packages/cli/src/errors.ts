/**
 * How the `flotilla` command fails. Exit codes follow the usual convention: 2 for a command
 * line that cannot be run as written, 1 for a failure while running it.
 */
export const ExitCodes = {
  OK: 0,
  /** The command ran and failed: hub unreachable, device not found, hub could not start. */
  FAILURE: 1,
  /** Unknown command or flag, missing or malformed value. Nothing was attempted. */
  USAGE: 2,
  /** Stopped by a second Ctrl-C before a clean shutdown finished (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

export const CliErrorCodes = {
  /** Unknown command, unknown flag, bad or missing value (exit 2). */
  USAGE: 'usage',
  /** Something the user asked for is not available yet (exit 2). */
  UNSUPPORTED: 'unsupported',
  /** The command ran and failed (exit 1). */
  FAILED: 'failed',
} as const;
export type CliErrorCode = (typeof CliErrorCodes)[keyof typeof CliErrorCodes];

/** An error `main` prints as one line, `flotilla <cmd>: <message>`, before exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A command line that cannot be run as written; the message is followed by a pointer to --help. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(CliErrorCodes.USAGE, message, ExitCodes.USAGE);
  }
}
