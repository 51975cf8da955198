import type { Comparator, ConditionNode, Leaf } from './definition.js';

/**
 * How one condition of one rule stands for one device, and the rules that move it. Pure: the
 * evaluator feeds values and times (from the injected clock), these decide.
 *
 * A value condition (threshold, rate) is a latch with hysteresis:
 * - inactive → pending when a value crosses the trigger (`temperature > 70`);
 * - pending → active once it has stayed across for the `for` duration (no `for`: at once);
 *   a value back on the safe side of the trigger in between resets it to inactive;
 * - active → inactive only when a value passes the clear level (`clear: 65`: below 65), so a
 *   value hovering around the trigger does not fire and resolve over and over.
 * Offline and no-data conditions are not latched: they are computed from the device's status
 * and the time of its last telemetry whenever the rule is evaluated.
 */

export interface LeafState {
  active: boolean;
  /** When the value first crossed the trigger, while waiting for `for`; null otherwise. */
  pendingSince: number | null;
  /** The last value seen (the rate, for a rate condition). */
  value: number | null;
  /** Rate conditions: recent (ts, value) samples within the window, oldest first. */
  samples?: Array<[number, number]>;
}

/** Samples a rate condition keeps per device; past it, samples in the middle are thinned out. */
export const MAX_RATE_SAMPLES = 64;

export function newLeafState(): LeafState {
  return { active: false, pendingSince: null, value: null };
}

export function compare(value: number, op: Comparator, level: number): boolean {
  switch (op) {
    case '>':
      return value > level;
    case '>=':
      return value >= level;
    case '<':
      return value < level;
    case '<=':
      return value <= level;
  }
}

/** True when an active condition clears at `value`: past the clear level, or off the trigger without hysteresis. */
function clears(value: number, op: Comparator, trigger: number, clear: number): boolean {
  if (clear === trigger) return !compare(value, op, trigger);
  return op === '>' || op === '>=' ? value < clear : value > clear;
}

/** Feeds one value to a threshold or rate latch at time `now`. Returns true when `active` changed. */
export function feedLatch(
  state: LeafState,
  leaf: { op: Comparator; value: number; clear: number; forMs: number },
  value: number,
  now: number,
): boolean {
  state.value = value;
  if (state.active) {
    if (!clears(value, leaf.op, leaf.value, leaf.clear)) return false;
    state.active = false;
    state.pendingSince = null;
    return true;
  }
  if (!compare(value, leaf.op, leaf.value)) {
    state.pendingSince = null;
    return false;
  }
  state.pendingSince ??= now;
  return promote(state, leaf.forMs, now);
}

/** A pending latch whose `for` has run out becomes active. Returns true when it did. */
export function promote(state: LeafState, forMs: number, now: number): boolean {
  if (state.active || state.pendingSince === null || now - state.pendingSince < forMs) return false;
  state.active = true;
  state.pendingSince = null;
  return true;
}

/**
 * Adds a sample to a rate condition's window and returns the rate per `perMs`, or undefined
 * while the samples span less than half the window (two points a second apart say little).
 */
export function addRateSample(
  state: LeafState,
  leaf: { windowMs: number; perMs: number },
  ts: number,
  value: number,
): number | undefined {
  const samples = (state.samples ??= []);
  const newest = samples[samples.length - 1];
  if (newest && ts <= newest[0]) return undefined; // out of order or repeated: the window only moves forward
  samples.push([ts, value]);
  while (samples.length > 1 && (samples[0] as [number, number])[0] < ts - leaf.windowMs) samples.shift();
  if (samples.length > MAX_RATE_SAMPLES) samples.splice(1, 1);
  const [firstTs, firstValue] = samples[0] as [number, number];
  const span = ts - firstTs;
  if (span < leaf.windowMs / 2) return undefined;
  return ((value - firstValue) / span) * leaf.perMs;
}

/** What the tree says, given each leaf's truth. */
export function holds(node: ConditionNode, leafTrue: (leaf: Leaf) => boolean): boolean {
  switch (node.kind) {
    case 'and':
      return node.children.every((child) => holds(child, leafTrue));
    case 'or':
      return node.children.some((child) => holds(child, leafTrue));
    default:
      return leafTrue(node);
  }
}
