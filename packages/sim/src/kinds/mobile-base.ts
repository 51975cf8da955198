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
import type { Drivable, Estoppable, Kind, RobotLog, SimRobot, Telemetry } from './types.js';

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
}

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

/** A differential-drive base with a battery, wheel motors that heat with load, and a Pi-class computer. */
export abstract class MobileBase implements SimRobot, Drivable, Estoppable {
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
    this.decide(dtS);
    const drive = !this.estopEngaged && this.battery.soc > 0;
    const dv = this.params.accel * dtS;
    this.left = approach(this.left, drive ? this.targetLeft : 0, dv);
    this.right = approach(this.right, drive ? this.targetRight : 0, dv);
    integrateDiffDrive(this.pose, this.left, this.right, this.params.trackM, dtS);
    if (this.mode === 'charging') Object.assign(this.pose, { x: 0, y: 0 });

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
        'system.cpu': round(this.cpuLoad, 1),
        'system.memory': round(this.memory, 1),
        'system.temperature': round(this.cpuTemp, 1),
      },
      samples: {
        pose: { x: round(this.pose.x, 3), y: round(this.pose.y, 3), theta: round(this.pose.theta, 4) },
        mode: this.mode,
      },
    };
  }

  snapshot(): Record<string, unknown> {
    return {
      kind: this.kind,
      mode: this.mode,
      estop: this.estopEngaged,
      pose: { ...this.pose },
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
