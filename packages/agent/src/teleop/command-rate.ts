import type { IndicatorReading, ObservedCommand, TeleoperationIndicator } from './indicator.js';

export interface CommandRateOptions {
  /** The velocity capability (default `hal.v1.motor.differential`). */
  capability?: string;
  /** The commands counted (default `drive`). */
  commands?: readonly string[];
  /** Commands per second at or above which a person is presumed to be driving (default 2). */
  minRate?: number;
  /** The window the rate is measured over (ms, default 2,000). */
  windowMs?: number;
}

export const COMMAND_RATE_DEFAULTS = {
  capability: 'hal.v1.motor.differential',
  commands: ['drive'],
  minRate: 2,
  windowMs: 2_000,
} as const;

/**
 * Active while velocity commands arrive at `minRate` per second or more over the last `windowMs`:
 * autonomy on the robot does not go through the hub, so a steady stream of `drive` commands is a
 * person (or their joystick app) driving. Holds only the last few command times, so a simulator
 * can give one to each of 10,000 robots.
 */
export class CommandRateIndicator implements TeleoperationIndicator {
  readonly name = 'command_rate';
  readonly #capability: string;
  readonly #commands: ReadonlySet<string>;
  readonly #windowMs: number;
  /** Commands needed within the window. */
  readonly #needed: number;
  /** Times of the latest commands, oldest first; never more than `needed`. */
  readonly #times: number[] = [];

  constructor(options: CommandRateOptions = {}) {
    this.#capability = options.capability ?? COMMAND_RATE_DEFAULTS.capability;
    this.#commands = new Set(options.commands ?? COMMAND_RATE_DEFAULTS.commands);
    this.#windowMs = options.windowMs ?? COMMAND_RATE_DEFAULTS.windowMs;
    const minRate = options.minRate ?? COMMAND_RATE_DEFAULTS.minRate;
    if (!(minRate > 0) || !(this.#windowMs > 0)) throw new RangeError('command rate: minRate and windowMs must be > 0');
    this.#needed = Math.max(1, Math.ceil((minRate * this.#windowMs) / 1000));
  }

  observeCommand(command: ObservedCommand, now: number): void {
    if (command.capability !== this.#capability || !this.#commands.has(command.command)) return;
    this.#times.push(now);
    if (this.#times.length > this.#needed) this.#times.shift();
  }

  read(now: number): IndicatorReading {
    const oldest = this.#times[0];
    return { active: this.#times.length >= this.#needed && oldest !== undefined && now - oldest < this.#windowMs };
  }
}
