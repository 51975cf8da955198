/** Physics shared by the simulated kinds. Units: SI (m, s, rad, W, V, A, Wh), temperatures in °C. */

export function clamp(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v;
}

/** Angle in (-π, π]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

/**
 * First-order lag: moves `value` toward `target` with time constant `tauS`, exactly for any
 * step size. Motors, CPUs and cases heat and cool like this: a load step shows in the
 * temperature minutes later, not at once.
 */
export function lag(value: number, target: number, dtS: number, tauS: number): number {
  return target + (value - target) * Math.exp(-dtS / tauS);
}

/**
 * Ornstein–Uhlenbeck step: noise that wanders around 0 with standard deviation `sd` and
 * forgets itself over `tauS`, exactly for any step size (weather, radio conditions).
 */
export function meanRevert(x: number, dtS: number, tauS: number, sd: number, rng: { gaussian(): number }): number {
  const decay = Math.exp(-dtS / tauS);
  return x * decay + sd * Math.sqrt(1 - decay * decay) * rng.gaussian();
}

/** Moves `value` toward `target` by at most `maxStep` (acceleration limits). */
export function approach(value: number, target: number, maxStep: number): number {
  return value + clamp(target - value, -maxStep, maxStep);
}

export interface BatteryParams {
  /** Cells in series (a 2S pack is 7.4 V nominal). */
  cells: number;
  capacityWh: number;
  /** Charger power at constant current (W); it tapers above 80% state of charge. */
  chargeW: number;
  /** Internal resistance of the pack (Ω): voltage sags under load. */
  resistanceOhm: number;
}

/** Open-circuit voltage of one Li-ion cell: ~3.0 V empty, ~4.2 V full, a knee near empty. */
export function cellVoltage(soc: number): number {
  return 3.2 + 1.0 * soc - 0.2 * Math.exp(-15 * soc);
}

/**
 * A Li-ion pack: drains with the load, charges at constant power then tapers (constant
 * voltage phase), and sags under current. `current` is positive when discharging.
 */
export class Battery {
  soc: number;
  voltage = 0;
  current = 0;
  charging = false;

  constructor(
    readonly params: BatteryParams,
    soc: number,
  ) {
    this.soc = clamp(soc, 0, 1);
    this.update(0, false, 0);
  }

  /** Advances by `dtS` seconds with `loadW` drawn, on or off the charger. */
  update(loadW: number, onCharger: boolean, dtS: number): void {
    const { cells, capacityWh, chargeW, resistanceOhm } = this.params;
    const ocv = cells * cellVoltage(this.soc);
    const taper = this.soc < 0.8 ? 1 : Math.max(0.02, (1 - this.soc) / 0.2);
    // On the charger the supply carries the load and the pack takes the charge; off it, the
    // pack carries the load. Positive: power out of the pack.
    const inW = onCharger && this.soc < 1 ? chargeW * taper : 0;
    const netW = onCharger ? -inW : loadW;
    this.current = netW / ocv;
    this.voltage = ocv - this.current * resistanceOhm;
    this.soc = clamp(this.soc - (netW * dtS) / 3600 / capacityWh, 0, 1);
    this.charging = inW > 0;
  }
}

export interface Pose {
  x: number;
  y: number;
  theta: number;
}

/**
 * Differential-drive kinematics over one step, integrating along the arc at the mid-step
 * heading: v = (l + r) / 2, ω = (r − l) / track.
 */
export function integrateDiffDrive(pose: Pose, left: number, right: number, trackM: number, dtS: number): void {
  const v = (left + right) / 2;
  const w = (right - left) / trackM;
  const mid = pose.theta + (w * dtS) / 2;
  pose.x += v * Math.cos(mid) * dtS;
  pose.y += v * Math.sin(mid) * dtS;
  pose.theta = wrapAngle(pose.theta + w * dtS);
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
