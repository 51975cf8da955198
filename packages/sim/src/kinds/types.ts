import type { HelloPayload, LogLevel } from '@flotilla/protocol';
import type { Rng } from '../random.js';

export const KINDS = ['lekiwi', 'xle', 'tonypi', 'mcu'] as const;
export type Kind = (typeof KINDS)[number];
export type SimKind = Kind | 'mixed';

export interface Telemetry {
  metrics: Record<string, number>;
  samples?: Record<string, unknown>;
}

/** Where a simulated robot's log lines go (its agent's sendLog, while connected). */
export type RobotLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** One simulated device's physics; stepped by the simulation's shared ticker. */
export interface SimRobot {
  readonly kind: Kind;
  /** Set by the simulation: the robot logs what a real one would (mode changes, warnings, commands). */
  log?: RobotLog;
  /** Advances the model by `dtS` seconds. */
  step(dtS: number): void;
  telemetry(): Telemetry;
  /** A plain copy of the state, for tests and inspection. */
  snapshot(): Record<string, unknown>;
}

/** A robot that takes `hal.v1.motor.differential` commands. */
export interface Drivable {
  drive(left: number, right: number): void;
  stop(): void;
  readonly maxSpeed: number;
}

/** A robot with an emergency stop (`hal.v1.estop`). */
export interface Estoppable {
  setEstop(engaged: boolean): void;
  readonly estopEngaged: boolean;
}

export function isDrivable(r: SimRobot): r is SimRobot & Drivable {
  return typeof (r as Partial<Drivable>).drive === 'function';
}

/** A robot with an IMU whose gyro bias a calibration measures and removes. */
export interface Calibratable {
  gyroBias: number;
}

export function isCalibratable(r: SimRobot): r is SimRobot & Calibratable {
  return typeof (r as Partial<Calibratable>).gyroBias === 'number';
}

export function isEstoppable(r: SimRobot): r is SimRobot & Estoppable {
  return typeof (r as Partial<Estoppable>).setEstop === 'function';
}

/** What a kind contributes: its facts and a factory for its physics. */
export interface KindSpec {
  readonly kind: Kind;
  /** Facts of one device; `base` parts are shared by every device of the kind. */
  facts(id: string, rng: Rng): Partial<HelloPayload>;
  create(rng: Rng): SimRobot;
}
