import { AGENT_VERSION } from '@flotilla/agent';
import { Battery, clamp, lag, round } from '../physics.js';
import type { Rng } from '../random.js';
import { deviceFacts, type KindFacts } from './facts.js';
import type { Estoppable, KindSpec, RobotLog, SimRobot, Telemetry } from './types.js';

/** Hiwonder bus servos: position 0..1000 over 240°, 500 is centred. */
const CENTER = 500;
const UNITS_PER_RAD = 1000 / ((240 * Math.PI) / 180);
export const SERVO_NAMES = [
  'r_ankle_roll',
  'r_ankle_pitch',
  'r_knee',
  'r_hip_pitch',
  'r_hip_roll',
  'l_ankle_roll',
  'l_ankle_pitch',
  'l_knee',
  'l_hip_pitch',
  'l_hip_roll',
  'r_shoulder_pitch',
  'r_shoulder_roll',
  'r_elbow',
  'l_shoulder_pitch',
  'l_shoulder_roll',
  'l_elbow',
] as const;
const SERVOS = SERVO_NAMES.length;
const LEG_SERVOS = 10;
const AMBIENT_C = 26;
const G = 9.81;

export type TonyPiActivity = 'standing' | 'walking' | 'waving' | 'sitting' | 'charging';

/**
 * TonyPi: a 16-servo humanoid on a Raspberry Pi with a 2S pack and an IMU. It stands, walks
 * (a periodic gait that rocks the body: roll follows the step, yaw drifts as it turns), waves
 * and sits; servos heat with the torque they hold; below 15% it sits down on its charger.
 */
export class TonyPi implements SimRobot, Estoppable {
  readonly kind = 'tonypi' as const;
  readonly positions = new Float64Array(SERVOS);
  readonly temperatures = new Float64Array(SERVOS);
  readonly battery: Battery;
  activity: TonyPiActivity = 'standing';
  estopEngaged = false;
  log?: RobotLog;
  roll = 0;
  pitch = 0;
  yaw: number;
  /** Gyro bias (deg/s) the yaw drifts by until the IMU is calibrated (hal.v1.sensor.imu calibrate). */
  gyroBias = 0.01;
  private yawRate = 0;
  private gait = 0;
  private activityLeft: number;
  private load = new Float64Array(SERVOS);
  private cpuLoad = 15;
  private cpuTemp: number;

  constructor(private readonly rng: Rng) {
    this.battery = new Battery({ cells: 2, capacityWh: 16.3, chargeW: 15, resistanceOhm: 0.15 }, rng.range(0.3, 1));
    this.yaw = rng.range(-180, 180);
    this.activityLeft = rng.range(5, 30);
    this.cpuTemp = 48 + rng.range(0, 4);
    for (let i = 0; i < SERVOS; i++) {
      this.positions[i] = CENTER;
      this.temperatures[i] = AMBIENT_C + rng.range(0, 3);
    }
  }

  setEstop(engaged: boolean): void {
    if (engaged !== this.estopEngaged) {
      if (engaged) this.log?.('warn', 'emergency stop engaged: sitting down and holding still');
      else this.log?.('info', 'emergency stop released');
    }
    this.estopEngaged = engaged;
    // a humanoid cannot simply cut torque and stay up: it sits down, then holds still
    if (engaged && this.activity !== 'charging') this.activity = 'sitting';
  }

  step(dtS: number): void {
    this.decide(dtS);
    const walking = this.activity === 'walking';
    if (walking) this.gait += 2 * Math.PI * 1.1 * dtS;
    const s = Math.sin(this.gait);
    const legLoad = walking ? 0.75 : this.activity === 'sitting' || this.activity === 'charging' ? 0.08 : 0.4;
    for (let i = 0; i < SERVOS; i++) {
      const target = CENTER + this.pose(i, s) * UNITS_PER_RAD;
      this.positions[i] = lag(this.positions[i]!, target, dtS, 0.15) + this.rng.gaussian(0.5);
      const arm = i >= LEG_SERVOS;
      this.load[i] = arm ? (this.activity === 'waving' && i >= 13 ? 0.6 : 0.12) : legLoad;
      this.temperatures[i] =
        lag(this.temperatures[i]!, AMBIENT_C + 30 * this.load[i]!, dtS, 240) + this.rng.gaussian(0.03);
    }
    let servoW = 0;
    for (const l of this.load) servoW += 1.5 * l;
    this.battery.update(4 + servoW, this.activity === 'charging', dtS);

    // IMU (degrees): body rocks with the gait; sensor noise and a slow gyro drift on yaw
    const rollTarget = walking ? 4 * s : 0;
    const pitchTarget = walking
      ? 3 + 1.5 * Math.sin(2 * this.gait)
      : this.activity === 'sitting' || this.activity === 'charging'
        ? 15
        : 1;
    this.roll = lag(this.roll, rollTarget, dtS, 0.1) + this.rng.gaussian(0.3);
    this.pitch = lag(this.pitch, pitchTarget, dtS, 0.3) + this.rng.gaussian(0.3);
    if (walking)
      this.yawRate = clamp(this.yawRate * Math.exp(-dtS / 5) + this.rng.gaussian(3) * Math.sqrt(dtS), -20, 20);
    else this.yawRate = 0;
    this.yaw = wrapDegrees(this.yaw + (this.yawRate + this.gyroBias) * dtS + this.rng.gaussian(0.05));

    this.cpuLoad = clamp(lag(this.cpuLoad, walking ? 55 : 18, dtS, 5) + this.rng.gaussian(2), 1, 100);
    this.cpuTemp = lag(this.cpuTemp, 42 + 0.3 * this.cpuLoad, dtS, 60);
  }

  /** Joint angle (rad) of servo `i` for the current activity; `s` is the gait's sine. */
  private pose(i: number, s: number): number {
    const name = SERVO_NAMES[i]!;
    const left = name.startsWith('l_') ? -1 : 1; // legs in antiphase
    switch (this.activity) {
      case 'walking':
        if (name.endsWith('hip_pitch')) return 0.35 * s * left;
        if (name.endsWith('knee')) return 0.5 * Math.max(0, s * left);
        if (name.endsWith('ankle_pitch')) return -0.2 * s * left;
        if (name.endsWith('roll') && i < LEG_SERVOS) return 0.08 * s;
        if (name.endsWith('shoulder_pitch')) return -0.3 * s * left; // arms swing against the legs
        return 0;
      case 'waving':
        if (name === 'l_shoulder_roll') return 1.6;
        if (name === 'l_elbow') return 0.5 + 0.5 * Math.sin(this.gait * 3);
        return 0;
      case 'sitting':
      case 'charging':
        if (name.endsWith('knee')) return 1.4;
        if (name.endsWith('hip_pitch')) return -1.1;
        if (name.endsWith('ankle_pitch')) return -0.4;
        return 0;
      case 'standing':
        return 0;
    }
  }

  private decide(dtS: number): void {
    const soc = this.battery.soc;
    if (this.activity === 'charging') {
      if (soc >= 0.95) {
        this.log?.('info', `battery charged (${round(soc * 100, 1)} %): standing up`);
        this.activity = 'standing';
      }
      return;
    }
    if (soc < 0.15) {
      this.log?.('warn', `battery low (${round(soc * 100, 1)} %): sitting down on the charger`, {
        soc: round(soc * 100, 1),
      });
      this.activity = 'charging';
      return;
    }
    if (this.estopEngaged) {
      this.activity = 'sitting';
      return;
    }
    if (this.activity === 'waving') this.gait += 2 * Math.PI * 0.5 * dtS;
    this.activityLeft -= dtS;
    if (this.activityLeft > 0) return;
    const r = this.rng.next();
    this.activity = r < 0.45 ? 'walking' : r < 0.75 ? 'standing' : r < 0.9 ? 'waving' : 'sitting';
    this.activityLeft = this.rng.range(10, 60);
  }

  telemetry(): Telemetry {
    const servos = [];
    let maxTemp = -Infinity;
    for (let i = 0; i < SERVOS; i++) {
      const temperature = round(this.temperatures[i]!, 1);
      maxTemp = Math.max(maxTemp, temperature);
      servos.push({ id: i + 1, position: Math.round(clamp(this.positions[i]!, 0, 1000)), temperature });
    }
    const rr = (this.roll * Math.PI) / 180;
    const pr = (this.pitch * Math.PI) / 180;
    return {
      metrics: {
        'battery.voltage': round(this.battery.voltage, 3),
        'battery.soc': round(this.battery.soc * 100, 2),
        'battery.charging': this.battery.charging ? 1 : 0,
        'imu.roll': round(this.roll, 2),
        'imu.pitch': round(this.pitch, 2),
        'imu.yaw': round(this.yaw, 2),
        'servo.temperature.max': maxTemp,
        estop: this.estopEngaged ? 1 : 0,
        'system.cpu': round(this.cpuLoad, 1),
        'system.temperature': round(this.cpuTemp, 1),
      },
      samples: {
        servos,
        imu: {
          roll: round(this.roll, 2),
          pitch: round(this.pitch, 2),
          yaw: round(this.yaw, 2),
          accel: [
            round(-G * Math.sin(pr), 3),
            round(G * Math.sin(rr) * Math.cos(pr), 3),
            round(G * Math.cos(rr) * Math.cos(pr), 3),
          ],
        },
        activity: this.activity,
      },
    };
  }

  snapshot(): Record<string, unknown> {
    return {
      kind: this.kind,
      activity: this.activity,
      estop: this.estopEngaged,
      imu: { roll: this.roll, pitch: this.pitch, yaw: this.yaw },
      servos: { positions: Array.from(this.positions), temperatures: Array.from(this.temperatures) },
      battery: { soc: this.battery.soc, voltage: this.battery.voltage, charging: this.battery.charging },
    };
  }
}

function wrapDegrees(d: number): number {
  const w = d - 360 * Math.floor((d + 180) / 360);
  return w === -180 ? 180 : w;
}

const FACTS: KindFacts = {
  type: 'tonypi',
  model: 'Hiwonder TonyPi',
  serialPrefix: 'TP',
  hardware: { model: 'TonyPi (Raspberry Pi 4B)', revision: '2.0', arch: 'arm64', cpus: 4, memoryBytes: 4 * 2 ** 30 },
  software: { os: 'Raspberry Pi OS', osVersion: '11', agentVersion: AGENT_VERSION },
  capabilities: [
    { name: 'hal.v1.motor.servo' },
    { name: 'hal.v1.sensor.imu' },
    { name: 'hal.v1.battery' },
    { name: 'hal.v1.estop' },
  ],
  maxUptimeS: 86_400,
};

export const tonypi: KindSpec = {
  kind: 'tonypi',
  facts: (id, rng) => deviceFacts(FACTS, id, rng),
  create: (rng) => new TonyPi(rng),
};
