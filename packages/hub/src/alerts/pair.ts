import { matchesSelector, type Device } from '@flotilla/protocol';
import type { CompiledRule, Leaf } from './definition.js';
import type { LeafState } from './leaf-state.js';

/** What the evaluator holds for one (rule, device) pair, and the small rules about it. */
export interface Pair {
  key: string;
  rule: CompiledRule;
  deviceId: string;
  /** By leaf index; only threshold and rate leaves use theirs. */
  leaves: LeafState[];
  alertId: string | null;
  /** A user resolved the alert while the condition still held: no new alert until it clears. */
  suppressed: boolean;
}

export function pairKey(ruleId: string, deviceId: string): string {
  return `${ruleId}/${deviceId}`;
}

export const isValueLeaf = (leaf: Leaf): leaf is Extract<Leaf, { kind: 'threshold' | 'rate' }> =>
  leaf.kind === 'threshold' || leaf.kind === 'rate';

/** Nothing pending, active, measured or open: the pair can go. */
export function isIdle(pair: Pair): boolean {
  if (pair.alertId || pair.suppressed) return false;
  return !pair.leaves.some((s) => s && (s.active || s.pendingSince !== null || (s.samples?.length ?? 0) > 0));
}

/** A condition is waiting for its `for`. */
export function isPending(pair: Pair): boolean {
  return pair.leaves.some((s) => s && !s.active && s.pendingSince !== null);
}

export function inScope(rule: CompiledRule, device: Device): boolean {
  return rule.selector.length === 0 || matchesSelector(rule.selector, device.labels);
}

/** What decides a rule's alerts: two rules alike in these fire and resolve alike. */
export function evaluatesAs(rule: CompiledRule): string {
  return JSON.stringify([rule.root, rule.selector, rule.severity, rule.enabled]);
}
