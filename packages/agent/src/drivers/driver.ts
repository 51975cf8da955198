import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { CommandHandler, CommandRegistry } from '../commands.js';

/** What a telemetry producer reports at one moment: numeric metrics and structured samples. */
export interface TelemetryReading {
  metrics: Record<string, number>;
  samples?: Record<string, unknown>;
}

/** Reports a driver's telemetry; the agent asks every `intervalMs`. */
export interface TelemetryProducer {
  /** How often to sample (ms). */
  readonly intervalMs: number;
  /** A reading for `device` now, or undefined when there is nothing to report. */
  sample(device: string): TelemetryReading | undefined;
}

/**
 * A driver: what makes some hardware (or a simulation of it) a set of HAL capabilities. It
 * brings the command handlers of each capability it implements and, optionally, what it
 * reports. Handlers find their device through `context.device`, so one driver object can serve
 * many devices (the simulator shares one per robot kind across thousands of agents).
 */
export interface Driver {
  /** For logs and errors: `shell`, `sim.differential`... */
  readonly name: string;
  /** Command handlers by capability (`hal.v1.estop`), then command (`engage`). */
  readonly capabilities: Readonly<Record<string, Readonly<Record<string, CommandHandler>>>>;
  readonly telemetry?: TelemetryProducer;
  /** Releases what the driver holds (processes, ports); called when the agent stops. */
  close?(): void | Promise<void>;
}

/** Registers every handler of the drivers; a capability and command two drivers both claim is refused. */
export function registerDrivers(registry: CommandRegistry, drivers: readonly Driver[]): CommandRegistry {
  for (const driver of drivers) {
    for (const [capability, commands] of Object.entries(driver.capabilities)) {
      for (const [command, handler] of Object.entries(commands)) registry.register(capability, command, handler);
    }
  }
  return registry;
}

/**
 * Samples every driver's telemetry on its own interval and hands the readings on (to
 * `Agent.sendTelemetry`, which buffers them connected or not).
 */
export class TelemetryProducers {
  readonly #timers: TimerHandle[] = [];

  constructor(
    private readonly drivers: readonly Driver[],
    private readonly clock: Clock,
  ) {}

  start(device: string, send: (reading: TelemetryReading) => void): void {
    for (const driver of this.drivers) {
      const producer = driver.telemetry;
      if (!producer) continue;
      this.#timers.push(
        this.clock.setInterval(() => {
          const reading = producer.sample(device);
          if (reading && (Object.keys(reading.metrics).length > 0 || reading.samples)) send(reading);
        }, producer.intervalMs),
      );
    }
  }

  stop(): void {
    for (const timer of this.#timers.splice(0)) timer.cancel();
  }
}
