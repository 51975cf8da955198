import {
  AgentErrorCodes,
  CommandError,
  CommandRegistry,
  registerDrivers,
  type CommandArgs,
  type Driver,
} from '@flotilla/agent';
import { systemClock, type Clock } from '@flotilla/protocol';
import { SimErrorCodes } from './errors.js';
import type { Drivable, Estoppable, Kind, SimRobot } from './kinds/types.js';
import { isCalibratable, isDrivable, isEstoppable } from './kinds/types.js';

export const Capabilities = {
  differential: 'hal.v1.motor.differential',
  estop: 'hal.v1.estop',
  imu: 'hal.v1.sensor.imu',
  range: 'hal.v1.sensor.range',
  battery: 'hal.v1.battery',
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

type RobotOf = (device: string) => SimRobot | undefined;

function finder(robotOf: RobotOf): (device: string) => SimRobot {
  return (device) => {
    const r = robotOf(device);
    if (!r) throw new CommandError(SimErrorCodes.UNKNOWN_DEVICE, `no simulated device ${device}`);
    return r;
  };
}

/** `hal.v1.estop`: cuts motion at once (a humanoid sits down); motion commands fail until released. */
export function estopDriver(robotOf: RobotOf): Driver {
  const robot = finder(robotOf);
  const estoppable = (device: string): SimRobot & Estoppable => {
    const r = robot(device);
    if (!isEstoppable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no estop`);
    return r;
  };
  return {
    name: 'sim.estop',
    capabilities: {
      [Capabilities.estop]: {
        engage: (_args, ctx) => {
          estoppable(ctx.device).setEstop(true);
          return { engaged: true };
        },
        release: (_args, ctx) => {
          estoppable(ctx.device).setEstop(false);
          return { engaged: false };
        },
      },
    },
  };
}

/** `hal.v1.motor.differential`: wheel speeds the base accelerates toward (its physics moves the pose). */
export function differentialDriver(robotOf: RobotOf): Driver {
  const robot = finder(robotOf);
  const drivable = (device: string): SimRobot & Drivable => {
    const r = robot(device);
    if (!isDrivable(r))
      throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no differential drive`);
    return r;
  };
  return {
    name: 'sim.differential',
    capabilities: {
      [Capabilities.differential]: {
        drive: (args, ctx) => {
          const r = drivable(ctx.device);
          if (isEstoppable(r) && r.estopEngaged)
            throw new CommandError(SimErrorCodes.ESTOP_ENGAGED, 'emergency stop is engaged; release it first');
          const left = speed(args, 'left', r.maxSpeed);
          const right = speed(args, 'right', r.maxSpeed);
          r.drive(left, right);
          return { left, right };
        },
        stop: (_args, ctx) => {
          drivable(ctx.device).stop();
          return { left: 0, right: 0 };
        },
      },
    },
  };
}

/**
 * `hal.v1.sensor.imu` calibrate, a job: keep still while the gyro is sampled, report progress,
 * then remove the measured bias. Cancelled, it leaves the bias as it was.
 */
export function imuDriver(robotOf: RobotOf, clock: Clock): Driver {
  const robot = finder(robotOf);
  return {
    name: 'sim.imu',
    capabilities: {
      [Capabilities.imu]: {
        calibrate: async (_args, ctx) => {
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
        },
      },
    },
  };
}

/** Every robot's physics as telemetry (battery, pose, IMU, ranges...), sampled by the simulation's shared ticker. */
export function robotTelemetryDriver(robotOf: RobotOf, intervalMs: number): Driver {
  return {
    name: 'sim.telemetry',
    capabilities: {},
    telemetry: { intervalMs, sample: (device) => robotOf(device)?.telemetry() },
  };
}

/**
 * The drivers of each kind, shared by every simulated device of the kind: one handler serves
 * thousands of devices, finding its robot by `context.device`. Each kind gets only the
 * capabilities it has, because the agent declares its registry's capabilities in hello.
 */
export function simDrivers(robotOf: RobotOf, clock: Clock = systemClock, telemetryMs = 1000): Record<Kind, Driver[]> {
  const telemetry = robotTelemetryDriver(robotOf, telemetryMs);
  const estop = estopDriver(robotOf);
  const imu = imuDriver(robotOf, clock);
  const mobile = [differentialDriver(robotOf), estop, imu, telemetry];
  return { lekiwi: mobile, xle: mobile, tonypi: [estop, imu, telemetry], mcu: [telemetry] };
}

/** A command registry per kind, made of its drivers' handlers. */
export function simRegistries(robotOf: RobotOf, clock: Clock = systemClock): Record<Kind, CommandRegistry> {
  const drivers = simDrivers(robotOf, clock);
  const registries = {} as Record<Kind, CommandRegistry>;
  for (const kind of Object.keys(drivers) as Kind[]) {
    // xle and lekiwi share one driver list: one registry serves both.
    const twin = (Object.keys(registries) as Kind[]).find((k) => drivers[k] === drivers[kind]);
    registries[kind] = twin ? registries[twin] : registerDrivers(new CommandRegistry(), drivers[kind]);
  }
  return registries;
}
