import { AGENT_VERSION } from '@flotilla/agent';
import { lag, round } from '../physics.js';
import type { Rng } from '../random.js';
import { deviceFacts, type KindFacts } from './facts.js';
import { MobileBase } from './mobile-base.js';
import type { KindSpec, Telemetry } from './types.js';

const JOINTS = 6;
/** Stowed arm pose (rad): folded over the base while driving. */
const HOME = [0, -1.2, 2.1, -0.9, 0, 0];
const AMBIENT_C = 24;

/**
 * XLE: a larger mobile manipulator. Its patrol alternates between driving to a station and
 * working there with its 6-joint arm while the base stands still; the arm's effort drains the
 * pack and heats its joint motors.
 */
export class Xle extends MobileBase {
  readonly kind = 'xle' as const;
  readonly joints = new Float64Array(JOINTS);
  readonly jointTemps = new Float64Array(JOINTS);
  private readonly amplitude = new Float64Array(JOINTS);
  private readonly phase = new Float64Array(JOINTS);
  private task: 'drive' | 'manipulate' = 'drive';
  private taskLeft: number;
  private t = 0;
  private armW = 0;

  constructor(rng: Rng) {
    super(
      {
        trackM: 0.45,
        maxSpeed: 0.8,
        cruiseSpeed: 0.4,
        accel: 0.8,
        battery: { cells: 7, capacityWh: 259, chargeW: 100, resistanceOhm: 0.08 },
        idleW: 25,
        motorW: 40,
        arenaM: 15,
        radiusM: 0.3,
      },
      rng,
    );
    this.taskLeft = rng.range(20, 60);
    for (let i = 0; i < JOINTS; i++) {
      this.joints[i] = HOME[i]!;
      this.jointTemps[i] = AMBIENT_C + rng.range(0, 3);
    }
  }

  override step(dtS: number): void {
    this.t += dtS;
    this.taskLeft -= dtS;
    if (this.taskLeft <= 0) this.nextTask();
    const working = this.task === 'manipulate' && this.mode === 'patrol' && !this.estopEngaged;
    let effortSum = 0;
    for (let i = 0; i < JOINTS; i++) {
      const before = this.joints[i]!;
      const target = working
        ? HOME[i]! + this.amplitude[i]! * Math.sin(2 * Math.PI * 0.15 * this.t + this.phase[i]!)
        : HOME[i]!;
      // joints track their trajectory with a servo's lag; effort ~ speed plus holding torque
      const q = lag(before, target, dtS, 0.8);
      this.joints[i] = q;
      const effort = Math.min(1, Math.abs(q - before) / Math.max(dtS, 1e-3) / 1.5 + (working ? 0.25 : 0.05));
      effortSum += effort;
      this.jointTemps[i] = lag(this.jointTemps[i]!, AMBIENT_C + 30 * effort, dtS, 240) + this.rng.gaussian(0.03);
    }
    this.armW = 15 * effortSum; // up to 15 W per joint
    super.step(dtS);
  }

  private nextTask(): void {
    this.task = this.task === 'drive' ? 'manipulate' : 'drive';
    this.taskLeft = this.task === 'drive' ? this.rng.range(20, 60) : this.rng.range(15, 40);
    for (let i = 0; i < JOINTS; i++) {
      this.amplitude[i] = this.rng.range(0.2, 0.8);
      this.phase[i] = this.rng.range(0, 2 * Math.PI);
    }
  }

  protected override mayWander(): boolean {
    return this.task === 'drive';
  }

  protected override extraLoadW(): number {
    return this.armW;
  }

  protected override extraCpu(): number {
    return this.task === 'manipulate' ? 25 : 0;
  }

  override telemetry(): Telemetry {
    const t = super.telemetry();
    t.metrics['arm.power'] = round(this.armW, 1);
    t.metrics['arm.temperature.max'] = round(Math.max(...this.jointTemps), 1);
    t.samples = {
      ...t.samples,
      arm: {
        positions: Array.from(this.joints, (q) => round(q, 4)),
        temperatures: Array.from(this.jointTemps, (c) => round(c, 1)),
      },
      task: this.task,
    };
    return t;
  }

  override snapshot(): Record<string, unknown> {
    return {
      ...super.snapshot(),
      task: this.task,
      joints: Array.from(this.joints),
      jointTemperatures: Array.from(this.jointTemps),
    };
  }
}

const FACTS: KindFacts = {
  type: 'xle',
  model: 'XLeRobot',
  serialPrefix: 'XLE',
  hardware: { model: 'XLeRobot (Jetson Orin Nano)', revision: '0.4', arch: 'arm64', cpus: 6, memoryBytes: 8 * 2 ** 30 },
  software: {
    os: 'Ubuntu',
    osVersion: '22.04',
    agentVersion: AGENT_VERSION,
    packages: [
      { name: 'lerobot', version: '0.3.2' },
      { name: 'ros-humble-ros-base', version: '0.10.0' },
    ],
  },
  capabilities: [
    { name: 'hal.v1.motor.differential' },
    { name: 'hal.v1.battery' },
    { name: 'hal.v1.estop' },
    { name: 'hal.v1.sensor.imu' },
    { name: 'hal.v1.sensor.range' },
    { name: 'lerobot.arm' },
  ],
  maxUptimeS: 3 * 86_400,
};

export const xle: KindSpec = {
  kind: 'xle',
  facts: (id, rng) => deviceFacts(FACTS, id, rng),
  create: (rng) => new Xle(rng),
};
