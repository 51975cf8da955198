/**
 * Stable error codes of the agent. Codes that travel on the wire (in `result` frames) are
 * marked so; the others are raised locally as `AgentError`. docs/agent.md lists them all.
 */
export const AgentErrorCodes = {
  /** An option has a value the agent cannot use (`hubUrl`, intervals, backoff bounds). */
  INVALID_OPTIONS: 'invalid_options',
  /** The hub URL is not an http(s):// or ws(s):// URL. */
  INVALID_HUB_URL: 'invalid_hub_url',
  /** The device id does not match the protocol's device id pattern. */
  INVALID_DEVICE_ID: 'invalid_device_id',
  /** `<stateDir>/identity.json` exists but cannot be read or does not hold a valid id. */
  IDENTITY_UNREADABLE: 'identity_unreadable',
  /** The state directory or identity file cannot be created. */
  IDENTITY_UNWRITABLE: 'identity_unwritable',
  /** The on-disk telemetry buffer (`<stateDir>/telemetry`) cannot be created or opened. */
  TELEMETRY_BUFFER_UNUSABLE: 'telemetry_buffer_unusable',
  /** The CA file given with `--ca` cannot be read or holds no PEM certificate. */
  CA_UNREADABLE: 'ca_unreadable',
  /** An outbound telemetry/event/log message does not match the protocol schema. */
  INVALID_MESSAGE: 'invalid_message',
  /** `--hub auto`: no hub answered on mDNS within the discovery timeout. */
  NO_HUB_FOUND: 'no_hub_found',
  /** `start()` was called on an agent that is already running or stopped. */
  ALREADY_STARTED: 'already_started',
  /** A handler for this capability and command is already registered. */
  DUPLICATE_HANDLER: 'duplicate_handler',
  /** (wire) No handler for the command's capability and command. */
  UNSUPPORTED_COMMAND: 'unsupported_command',
  /** (wire) The handler threw without a code of its own. */
  COMMAND_FAILED: 'command_failed',
  /** (wire) The handler did not finish within `timeoutMs`. */
  COMMAND_TIMED_OUT: 'command_timed_out',
  /** `--config`: the agent configuration file cannot be read or does not match its schema. */
  INVALID_CONFIG: 'invalid_config',
  /** (wire) The command's arguments are not what its handler takes. */
  INVALID_ARGS: 'invalid_args',
  /** (wire) The shell driver could not start the configured program (not found, not executable). */
  SHELL_SPAWN_FAILED: 'shell_spawn_failed',
  /** (wire) A shell driver command ran over its configured timeout and was killed. */
  SHELL_TIMED_OUT: 'shell_timed_out',
  /** The hub cancelled the command while it ran. */
  COMMAND_CANCELLED: 'cancelled',
} as const;

export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];

/** A local failure of the agent (bad options, unusable identity), with a stable code. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown by a command handler to fail a command with a code of its own (`estop_engaged`,
 * `out_of_range`); the code and message go back to the hub in the `result` frame.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
