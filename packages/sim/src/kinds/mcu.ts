import { AGENT_VERSION } from '@flotilla/agent';
import { clamp, meanRevert, round } from '../physics.js';
import type { Rng } from '../random.js';
import { deviceFacts, type KindFacts } from './facts.js';
import type { KindSpec, SimRobot, Telemetry } from './types.js';

const DAY_S = 86_400;

/**
 * A microcontroller environment node: air temperature on a daily cycle with weather-like
 * wander, relative humidity moving against it, and Wi-Fi signal strength that drifts.
 */
export class Mcu implements SimRobot {
  readonly kind = 'mcu' as const;
  temperature: number;
  humidity: number;
  rssi: number;
  private readonly baseTemp: number;
  private readonly meanRssi: number;
  /** Time of day (s since midnight), from a random start so devices are not in lockstep. */
  private clock: number;
  private weather = 0;
  private damp = 0;

  constructor(private readonly rng: Rng) {
    this.baseTemp = rng.range(18, 24);
    this.meanRssi = rng.range(-75, -50);
    this.clock = rng.range(0, DAY_S);
    this.rssi = this.meanRssi;
    this.temperature = this.baseTemp;
    this.humidity = 45;
    this.step(0);
  }

  step(dtS: number): void {
    this.clock = (this.clock + dtS) % DAY_S;
    this.weather = meanRevert(this.weather, dtS, 3_600, 1.2, this.rng);
    this.damp = meanRevert(this.damp, dtS, 1_800, 4, this.rng);
    // warmest mid-afternoon (15:00), coolest before dawn
    const daily = 3 * Math.sin((2 * Math.PI * (this.clock - 9 * 3_600)) / DAY_S);
    this.temperature = this.baseTemp + daily + this.weather + this.rng.gaussian(0.05);
    this.humidity = clamp(50 - 2.5 * (daily + this.weather) + this.damp + this.rng.gaussian(0.3), 5, 98);
    this.rssi = clamp(
      this.rssi + (this.meanRssi - this.rssi) * Math.min(1, dtS / 30) + this.rng.gaussian(1.5),
      -95,
      -30,
    );
  }

  telemetry(): Telemetry {
    return {
      metrics: {
        'env.temperature': round(this.temperature, 2),
        'env.humidity': round(this.humidity, 1),
        'wifi.rssi': Math.round(this.rssi),
      },
    };
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, temperature: this.temperature, humidity: this.humidity, rssi: this.rssi };
  }
}

const FACTS: KindFacts = {
  type: 'mcu',
  model: 'ESP32-S3',
  serialPrefix: 'MCU',
  hardware: { model: 'ESP32-S3-WROOM-1', arch: 'xtensa', cpus: 2, memoryBytes: 512 * 1024 },
  software: { os: 'Zephyr', osVersion: '3.7.0', agentVersion: AGENT_VERSION },
  capabilities: [{ name: 'hal.v1.sensor.temperature' }, { name: 'hal.v1.sensor.humidity' }],
  maxUptimeS: 30 * 86_400,
};

export const mcu: KindSpec = {
  kind: 'mcu',
  facts: (id, rng) => deviceFacts(FACTS, id, rng),
  create: (rng) => new Mcu(rng),
};
