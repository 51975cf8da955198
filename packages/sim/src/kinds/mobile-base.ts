import {
  Battery,
  approach,
  clamp,
  integrateDiffDrive,
  lag,
  round,
  wrapAngle,
  type BatteryParams,
  type Pose,
} from '../physics.js';
import type { Rng } from '../random.js';
import { collides, raycast, roomFor, type WorldSpec } from '../world.js';
import type { Calibratable, Drivable, Estoppable, Kind, RobotLog, SimRobot, Telemetry } from './types.js';

export interface MobileBaseParams {
  /** Distance between the wheels (m). */
  trackM: number;
  maxSpeed: number;
  cruiseSpeed: number;
  /** Wheel acceleration limit (m/s²). */
  accel: number;
  battery: BatteryParams;
  /** Electronics that draw power whatever the wheels do (W). */
  idleW: number;
  /** One wheel motor's draw at full speed (W). */
  motorW: number;
  /** Patrol area around the dock (m). */
  arenaM: number;
  /** Radius of the base's footprint (m): what bumps into walls and obstacles. */
  radiusM: number;
}

/** Range sensors: front, and 30° to each side, mounted at the footprint's edge (ToF, 4 m reach). */
export const RANGE_MAX_M = 4;
const RANGE_SIDE_RAD = Math.PI / 6;
/** Closer than this ahead, autonomy turns away. */
const AVOID_M = 0.8;
const G = 9.81;

/**
 * What the base is doing. Autonomy: patrol until the battery is low, return to the dock at
 * the origin, charge until nearly full, patrol again. A `drive` command takes over (manual);
 * `stop` parks it (idle) until autonomy resumes. A low battery overrides manual driving, as
 * a real robot's return-to-dock does.
 */
export type BaseMode = 'patrol' | 'returning' | 'charging' | 'manual' | 'idle';

const LOW_SOC = 0.2;
const FULL_SOC = 0.95;
const IDLE_RESUME_S = 120;
const DOCKED_M = 0.1;
const AMBIENT_C = 24;
/** A motor this hot is worth a warning; it is forgotten once the motor cools below HOT_CLEAR_C. */
const HOT_C = 50;
const HOT_CLEAR_C = 45;

/**
 * A differential-drive base with a battery, wheel motors that heat with load, an IMU, three range
 * sensors and a bumper in a room with obstacles, and a Pi-class computer.
 */
export abstract class MobileBase implements SimRobot, Drivable, Estoppable, Calibratable {
  abstract readonly kind: Kind;
  readonly pose: Pose;
  mode: BaseMode;
  estopEngaged = false;
  readonly battery: Battery;
  /** Commanded and actual wheel speeds (m/s). */
  targetLeft = 0;
  targetRight = 0;
  left = 0;
  right = 0;
  motorTempLeft: number;
  motorTempRight: number;
  cpuLoad = 10;
  cpuTemp: number;
  memory: number;
  /** Patrol turn rate (rad/s), a smoothed random walk. */
  private turn = 0;
  private idleFor = 0;
  private hot = false;
  log?: RobotLog;
  /** The room it drives in: walls and obstacles its range sensors see and its bumper meets. */
  readonly world: WorldSpec;
  /** Latest range readings (m): front, left, right. */
  ranges = { front: RANGE_MAX_M, left: RANGE_MAX_M, right: RANGE_MAX_M };
  /** Gyro bias (deg/s): the IMU's yaw drifts by it until calibrated (hal.v1.sensor.imu calibrate). */
  gyroBias: number;
  /** Yaw error accumulated from the gyro bias (deg). */
  private yawDrift = 0;
  /** Body acceleration (m/s²): forward (from the change of speed) and sideways (centripetal). */
  private accelX = 0;
  private accelY = 0;
  private bumped = false;

  constructor(
    readonly params: MobileBaseParams,
    protected readonly rng: Rng,
  ) {
    const soc = rng.range(0.3, 1);
    this.battery = new Battery(params.battery, soc);
    const docked = soc < 0.5;
    this.mode = docked ? 'charging' : 'patrol';
    this.pose = docked
      ? { x: 0, y: 0, theta: 0 }
      : {
          x: rng.range(-params.arenaM, params.arenaM) / 2,
          y: rng.range(-params.arenaM, params.arenaM) / 2,
          theta: rng.range(-Math.PI, Math.PI),
        };
    this.world = roomFor(params.arenaM);
    // Never start inside a wall or an obstacle: such a robot would be stuck from the first step.
    if (collides(this.world, this.pose.x, this.pose.y, params.radiusM)) Object.assign(this.pose, { x: 0, y: 0 });
    this.gyroBias = round(rng.range(0.005, 0.03), 4);
    this.motorTempLeft = this.motorTempRight = AMBIENT_C + rng.range(0, 4);
    this.cpuTemp = 45 + rng.range(0, 5);
    this.memory = rng.range(25, 45);
  }

  get maxSpeed(): number {
    return this.params.maxSpeed;
  }

  drive(left: number, right: number): void {
    const max = this.params.maxSpeed;
    this.targetLeft = clamp(left, -max, max);
    this.targetRight = clamp(right, -max, max);
    if (this.mode !== 'manual') this.log?.('info', 'manual drive: autonomy paused', { left, right, from: this.mode });
    this.mode = 'manual';
  }

  stop(): void {
    this.targetLeft = this.targetRight = 0;
    if (this.mode === 'manual' || this.mode === 'patrol') {
      this.log?.('info', 'stopped by command; patrol resumes after an idle timeout', { idleS: IDLE_RESUME_S });
      this.mode = 'idle';
      this.idleFor = 0;
    }
  }

  /** Engaging cuts the motors and forgets the last drive command, so release never lurches. */
  setEstop(engaged: boolean): void {
    if (engaged !== this.estopEngaged) {
      if (engaged) this.log?.('warn', 'emergency stop engaged: motors cut', { mode: this.mode });
      else this.log?.('info', 'emergency stop released');
    }
    this.estopEngaged = engaged;
    if (engaged) this.stop();
  }

  step(dtS: number): void {
    this.sense();
    this.decide(dtS);
    const vBefore = (this.left + this.right) / 2;
    if (this.estopEngaged || this.battery.soc <= 0) {
      // The emergency stop cuts and brakes the motors: the wheels stop now, not at the ramp rate.
      this.left = this.right = 0;
    } else {
      const dv = this.params.accel * dtS;
      this.left = approach(this.left, this.targetLeft, dv);
      this.right = approach(this.right, this.targetRight, dv);
    }
    const before = { ...this.pose };
    integrateDiffDrive(this.pose, this.left, this.right, this.params.trackM, dtS);
    if (collides(this.world, this.pose.x, this.pose.y, this.params.radiusM)) {
      // The bumper: the base stays where it was touching, the wheels stall and the drive stops.
      Object.assign(this.pose, before);
      this.left = this.right = 0;
      if (!this.bumped) this.log?.('warn', 'bumper hit: stopped', { x: round(before.x, 2), y: round(before.y, 2) });
      this.bumped = true;
      if (this.mode === 'manual') this.stop();
    } else this.bumped = false;
    if (this.mode === 'charging') Object.assign(this.pose, { x: 0, y: 0 });
    const v = (this.left + this.right) / 2;
    const w = (this.right - this.left) / this.params.trackM;
    this.accelX = dtS > 0 ? (v - vBefore) / dtS : 0;
    this.accelY = v * w;
    this.yawDrift += this.gyroBias * dtS;

    const { maxSpeed, motorW, idleW } = this.params;
    const effortL = Math.abs(this.left) / maxSpeed;
    const effortR = Math.abs(this.right) / maxSpeed;
    this.battery.update(idleW + this.extraLoadW() + motorW * (effortL + effortR), this.mode === 'charging', dtS);
    this.motorTempLeft = lag(this.motorTempLeft, AMBIENT_C + 32 * effortL, dtS, 180) + this.rng.gaussian(0.05);
    this.motorTempRight = lag(this.motorTempRight, AMBIENT_C + 32 * effortR, dtS, 180) + this.rng.gaussian(0.05);
    const moving = effortL + effortR > 0.05 ? 1 : 0;
    this.cpuLoad = clamp(
      lag(this.cpuLoad, 12 + 28 * moving + this.extraCpu(), dtS, 10) + this.rng.gaussian(1.5),
      1,
      100,
    );
    this.cpuTemp = lag(this.cpuTemp, 40 + 0.35 * this.cpuLoad, dtS, 60);
    const hottest = Math.max(this.motorTempLeft, this.motorTempRight);
    if (!this.hot && hottest >= HOT_C) {
      this.hot = true;
      this.log?.('warn', `wheel motor hot: ${round(hottest, 1)} °C`, { temperature: round(hottest, 1) });
    } else if (this.hot && hottest < HOT_CLEAR_C) this.hot = false;
    this.memory = clamp(this.memory + this.rng.gaussian(0.05) * Math.sqrt(dtS), 15, 85);
  }

  /** Casts the range sensors' rays from the footprint's edge into the room. */
  private sense(): void {
    const { x, y, theta } = this.pose;
    const r = this.params.radiusM;
    const ray = (offset: number): number => {
      const a = theta + offset;
      const d = raycast(this.world, x + r * Math.cos(a), y + r * Math.sin(a), a, RANGE_MAX_M);
      return clamp(d + this.rng.gaussian(0.005), 0, RANGE_MAX_M);
    };
    this.ranges = { front: ray(0), left: ray(RANGE_SIDE_RAD), right: ray(-RANGE_SIDE_RAD) };
  }

  /** Turn rate (rad/s) away from what the range sensors see close ahead, or undefined when the way is clear. */
  private avoidance(): number | undefined {
    const { front, left, right } = this.ranges;
    if (Math.min(front, left, right) >= AVOID_M) return undefined;
    return left >= right ? 1.5 : -1.5;
  }

  /** Power drawn beyond electronics and wheels (an arm, say). */
  protected extraLoadW(): number {
    return 0;
  }

  protected extraCpu(): number {
    return 0;
  }

  /** Whether autonomy may drive the wheels now (the arm of a mobile manipulator may want them still). */
  protected mayWander(): boolean {
    return true;
  }

  /** Chooses wheel targets from the mode; switches modes on battery and dock events. */
  private decide(dtS: number): void {
    const soc = this.battery.soc;
    if (soc < LOW_SOC && this.mode !== 'charging' && this.mode !== 'returning') {
      this.log?.('warn', `battery low (${round(soc * 100, 1)} %): returning to dock`, {
        soc: round(soc * 100, 1),
        x: round(this.pose.x, 2),
        y: round(this.pose.y, 2),
      });
      this.mode = 'returning';
    }
    switch (this.mode) {
      case 'charging':
        this.targetLeft = this.targetRight = 0;
        if (soc >= FULL_SOC) {
          this.log?.('info', `battery charged (${round(soc * 100, 1)} %): resuming patrol`);
          this.mode = 'patrol';
          this.pose.theta = this.rng.range(-Math.PI, Math.PI);
        }
        return;
      case 'returning': {
        const dist = Math.hypot(this.pose.x, this.pose.y);
        if (dist < DOCKED_M) {
          this.log?.('info', 'docked: charging', { soc: round(soc * 100, 1) });
          this.mode = 'charging';
          this.targetLeft = this.targetRight = 0;
          return;
        }
        // go-to-goal: turn toward the dock, slow down when pointing away or close
        const err = wrapAngle(Math.atan2(-this.pose.y, -this.pose.x) - this.pose.theta);
        const dodge = dist > 1 ? this.avoidance() : undefined;
        if (dodge !== undefined) return this.setTwist(0.05, dodge);
        const v = Math.min(this.params.cruiseSpeed, 0.8 * dist) * Math.max(0, Math.cos(err));
        return this.setTwist(v, clamp(2 * err, -2, 2));
      }
      case 'patrol': {
        if (!this.mayWander()) return this.setTwist(0, 0);
        this.turn = this.turn * Math.exp(-dtS / 4) + this.rng.gaussian(0.25) * Math.sqrt(dtS);
        const dist = Math.hypot(this.pose.x, this.pose.y);
        if (dist > this.params.arenaM) {
          // beyond the patrol area: steer back toward the dock
          this.turn = clamp(1.5 * wrapAngle(Math.atan2(-this.pose.y, -this.pose.x) - this.pose.theta), -1.5, 1.5);
        }
        const dodge = this.avoidance();
        if (dodge !== undefined) {
          this.turn = dodge;
          return this.setTwist(0.05, dodge);
        }
        const v = this.params.cruiseSpeed * (1 - 0.5 * Math.min(1, Math.abs(this.turn)));
        return this.setTwist(v, this.turn);
      }
      case 'idle':
        this.idleFor += dtS;
        if (this.idleFor >= IDLE_RESUME_S) {
          this.log?.('info', 'idle timeout: resuming patrol');
          this.mode = 'patrol';
        }
        return;
      case 'manual':
        return;
    }
  }

  private setTwist(v: number, w: number): void {
    const half = (w * this.params.trackM) / 2;
    const max = this.params.maxSpeed;
    this.targetLeft = clamp(v - half, -max, max);
    this.targetRight = clamp(v + half, -max, max);
  }

  telemetry(): Telemetry {
    const b = this.battery;
    const imu = this.imu();
    const v = (this.left + this.right) / 2;
    const w = (this.right - this.left) / this.params.trackM;
    return {
      metrics: {
        'battery.soc': round(b.soc * 100, 2),
        'battery.voltage': round(b.voltage, 3),
        'battery.current': round(b.current, 3),
        'battery.charging': b.charging ? 1 : 0,
        'pose.x': round(this.pose.x, 3),
        'pose.y': round(this.pose.y, 3),
        'pose.theta': round(this.pose.theta, 4),
        'velocity.linear': round(v, 3),
        'velocity.angular': round(w, 3),
        'wheel.left.speed': round(this.left, 3),
        'wheel.right.speed': round(this.right, 3),
        'motor.left.temperature': round(this.motorTempLeft, 1),
        'motor.right.temperature': round(this.motorTempRight, 1),
        estop: this.estopEngaged ? 1 : 0,
        range: round(this.ranges.front, 3),
        'imu.roll': imu.roll,
        'imu.pitch': imu.pitch,
        'imu.yaw': imu.yaw,
        'system.cpu': round(this.cpuLoad, 1),
        'system.memory': round(this.memory, 1),
        'system.temperature': round(this.cpuTemp, 1),
      },
      samples: {
        pose: { x: round(this.pose.x, 3), y: round(this.pose.y, 3), theta: round(this.pose.theta, 4) },
        imu,
        ranges: {
          front: round(this.ranges.front, 3),
          left: round(this.ranges.left, 3),
          right: round(this.ranges.right, 3),
        },
        mode: this.mode,
      },
    };
  }

  /**
   * What the IMU reads (hal.v1.sensor.imu; angles in degrees): yaw is the heading plus the drift
   * of an uncalibrated gyro; the body pitches back when it speeds up and rolls out in a turn,
   * as the accelerometer sees gravity tilted by the body's own acceleration.
   */
  imu(): { roll: number; pitch: number; yaw: number; accel: number[]; gyro: number[] } {
    const deg = 180 / Math.PI;
    const w = (this.right - this.left) / this.params.trackM;
    const yaw = wrapAngle(this.pose.theta + this.yawDrift / deg) * deg;
    return {
      roll: round(Math.atan2(this.accelY, G) * deg + this.rng.gaussian(0.05), 2),
      pitch: round(-Math.atan2(this.accelX, G) * deg + this.rng.gaussian(0.05), 2),
      yaw: round(yaw, 2),
      accel: [round(this.accelX, 3), round(this.accelY, 3), G],
      gyro: [0, 0, round(w + this.gyroBias / deg, 4)],
    };
  }

  snapshot(): Record<string, unknown> {
    return {
      kind: this.kind,
      mode: this.mode,
      estop: this.estopEngaged,
      pose: { ...this.pose },
      ranges: { ...this.ranges },
      gyroBias: this.gyroBias,
      wheels: { left: this.left, right: this.right, targetLeft: this.targetLeft, targetRight: this.targetRight },
      battery: {
        soc: this.battery.soc,
        voltage: this.battery.voltage,
        current: this.battery.current,
        charging: this.battery.charging,
      },
      motorTemperatures: { left: this.motorTempLeft, right: this.motorTempRight },
    };
  }
}
