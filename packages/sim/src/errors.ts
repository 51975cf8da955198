/** Stable error codes of the simulator (docs/agent.md lists them with the agent's). */
export const SimErrorCodes = {
  /** An option of `startSimulation` is out of range or malformed. */
  INVALID_OPTIONS: 'invalid_options',
  /** (wire, command result) A command's arguments are missing or not numbers. */
  INVALID_ARGS: 'invalid_args',
  /** (wire, command result) A wheel speed beyond what the robot can do. */
  OUT_OF_RANGE: 'out_of_range',
  /** (wire, command result) The device was removed from the simulation while the command ran. */
  UNKNOWN_DEVICE: 'unknown_device',
  /** (wire, command result) The robot's emergency stop is engaged; release it first. */
  ESTOP_ENGAGED: 'estop_engaged',
} as const;

export type SimErrorCode = (typeof SimErrorCodes)[keyof typeof SimErrorCodes];

export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
