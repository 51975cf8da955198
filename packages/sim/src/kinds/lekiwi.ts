import { AGENT_VERSION } from '@flotilla/agent';
import type { Rng } from '../random.js';
import { deviceFacts, type KindFacts } from './facts.js';
import { MobileBase } from './mobile-base.js';
import type { KindSpec } from './types.js';

/** LeKiwi: a small mobile base on a Raspberry Pi 5 with a 3S pack. */
export class Lekiwi extends MobileBase {
  readonly kind = 'lekiwi' as const;

  constructor(rng: Rng) {
    super(
      {
        trackM: 0.25,
        maxSpeed: 0.5,
        cruiseSpeed: 0.25,
        accel: 1,
        battery: { cells: 3, capacityWh: 55, chargeW: 25, resistanceOhm: 0.12 },
        idleW: 6,
        motorW: 12,
        arenaM: 8,
        radiusM: 0.18,
      },
      rng,
    );
  }
}

const FACTS: KindFacts = {
  type: 'lekiwi',
  model: 'LeKiwi',
  serialPrefix: 'LK',
  hardware: { model: 'LeKiwi (Raspberry Pi 5)', revision: '1.2', arch: 'arm64', cpus: 4, memoryBytes: 8 * 2 ** 30 },
  software: {
    os: 'Raspberry Pi OS',
    osVersion: '12',
    agentVersion: AGENT_VERSION,
    packages: [{ name: 'lerobot', version: '0.3.2' }],
  },
  capabilities: [
    { name: 'hal.v1.motor.differential' },
    { name: 'hal.v1.battery' },
    { name: 'hal.v1.estop' },
    { name: 'hal.v1.sensor.imu' },
    { name: 'hal.v1.sensor.range' },
  ],
  maxUptimeS: 7 * 86_400,
};

export const lekiwi: KindSpec = {
  kind: 'lekiwi',
  facts: (id, rng) => deviceFacts(FACTS, id, rng),
  create: (rng) => new Lekiwi(rng),
};
