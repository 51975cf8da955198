import type { Leaf } from './definition.js';

/** One line per condition, for an alert's summary: `temperature 72.5 > 70`, `offline for 5m`. */
export function describeLeaf(leaf: Leaf, value: number | null): string {
  const shown = value === null ? '' : ` ${round(value)}`;
  switch (leaf.kind) {
    case 'threshold':
      return `${leaf.metric}${shown} ${leaf.op} ${leaf.value}${leaf.forMs > 0 ? ` for ${duration(leaf.forMs)}` : ''}`;
    case 'rate':
      return `${leaf.metric} changing${shown} per ${duration(leaf.perMs)} ${leaf.op} ${leaf.value} (over ${duration(leaf.windowMs)})`;
    case 'offline':
      return `offline for ${duration(leaf.forMs)}`;
    case 'no_data':
      return `no ${leaf.metric ?? 'telemetry'} for ${duration(leaf.forMs)}`;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** 90000 → `1m30s`. */
export function duration(ms: number): string {
  if (ms % 1000 !== 0 || ms === 0) return `${ms}ms`;
  let rest = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
