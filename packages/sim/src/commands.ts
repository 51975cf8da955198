import { AgentErrorCodes, CommandError, CommandRegistry, type CommandArgs } from '@flotilla/agent';
import { systemClock, type Clock } from '@flotilla/protocol';
import { SimErrorCodes } from './errors.js';
import type { Kind, SimRobot } from './kinds/types.js';
import { isCalibratable, isDrivable, isEstoppable } from './kinds/types.js';

export const Capabilities = {
  differential: 'hal.v1.motor.differential',
  estop: 'hal.v1.estop',
  imu: 'hal.v1.sensor.imu',
} as const;

/** An IMU calibration samples the gyro this many times, this far apart: 3 s, a job with progress. */
export const CALIBRATION_STEPS = 10;
export const CALIBRATION_STEP_MS = 300;

/** Waits on the simulation's clock; rejects with the signal's reason when the command is cancelled. */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      timer.cancel();
      reject(signal.reason as Error);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function speed(args: CommandArgs, name: string, max: number): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new CommandError(SimErrorCodes.INVALID_ARGS, `${name} must be a number (m/s)`);
  }
  if (Math.abs(v) > max) throw new CommandError(SimErrorCodes.OUT_OF_RANGE, `${name} must be within ±${max} m/s`);
  return v;
}

/**
 * Command registries shared by every simulated device of a kind: one handler function serves
 * thousands of devices, finding its robot by `context.device`. Each kind gets a registry with
 * only the capabilities it has, because the agent declares the registry's capabilities in hello.
 */
export function simRegistries(
  robotOf: (device: string) => SimRobot | undefined,
  clock: Clock = systemClock,
): Record<Kind, CommandRegistry> {
  const robot = (device: string): SimRobot => {
    const r = robotOf(device);
    if (!r) throw new CommandError(SimErrorCodes.UNKNOWN_DEVICE, `no simulated device ${device}`);
    return r;
  };
  const estop = (registry: CommandRegistry): CommandRegistry => {
    registry.register(Capabilities.estop, 'engage', (_args, ctx) => {
      const r = robot(ctx.device);
      if (!isEstoppable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no estop`);
      r.setEstop(true);
      return { engaged: true };
    });
    registry.register(Capabilities.estop, 'release', (_args, ctx) => {
      const r = robot(ctx.device);
      if (!isEstoppable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no estop`);
      r.setEstop(false);
      return { engaged: false };
    });
    return registry;
  };
  const mobile = estop(new CommandRegistry());
  mobile.register(Capabilities.differential, 'drive', (args, ctx) => {
    const r = robot(ctx.device);
    if (!isDrivable(r))
      throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no differential drive`);
    if (isEstoppable(r) && r.estopEngaged)
      throw new CommandError(SimErrorCodes.ESTOP_ENGAGED, 'emergency stop is engaged; release it first');
    const left = speed(args, 'left', r.maxSpeed);
    const right = speed(args, 'right', r.maxSpeed);
    r.drive(left, right);
    return { left, right };
  });
  mobile.register(Capabilities.differential, 'stop', (_args, ctx) => {
    const r = robot(ctx.device);
    if (!isDrivable(r))
      throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no differential drive`);
    r.stop();
    return { left: 0, right: 0 };
  });
  const humanoid = estop(new CommandRegistry());
  // A job: keep still while the gyro is sampled, report progress, then remove the measured bias.
  // Cancelled, it leaves the bias as it was.
  humanoid.register(Capabilities.imu, 'calibrate', async (_args, ctx) => {
    const r = robot(ctx.device);
    if (!isCalibratable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no IMU`);
    r.log?.('info', 'IMU calibration started: keep the robot still', { command: ctx.id });
    try {
      for (let step = 1; step <= CALIBRATION_STEPS; step++) {
        await pause(clock, CALIBRATION_STEP_MS, ctx.signal);
        ctx.progress(step / CALIBRATION_STEPS, `sampling the gyro ${step}/${CALIBRATION_STEPS}`);
      }
    } catch (err) {
      r.log?.('warn', 'IMU calibration interrupted: gyro bias left as it was', { command: ctx.id });
      throw err;
    }
    const measured = r.gyroBias;
    r.gyroBias = 0;
    r.log?.('info', `IMU calibration done: gyro bias ${measured} deg/s removed`, {
      command: ctx.id,
      gyroBias: measured,
    });
    return { gyroBias: measured };
  });
  return { lekiwi: mobile, xle: mobile, tonypi: humanoid, mcu: new CommandRegistry() };
}
