import { lekiwi } from './lekiwi.js';
import { mcu } from './mcu.js';
import { tonypi } from './tonypi.js';
import type { Kind, KindSpec, SimKind } from './types.js';
import { xle } from './xle.js';

export const KIND_SPECS: Readonly<Record<Kind, KindSpec>> = { lekiwi, xle, tonypi, mcu };

/** A mixed fleet repeats this pattern: mostly LeKiwi bases, some of everything else. */
const MIXED: readonly Kind[] = ['lekiwi', 'xle', 'tonypi', 'lekiwi', 'mcu'];

/** The kind of the n-th device (0-based) of a fleet of `kind`. */
export function kindAt(kind: SimKind, n: number): Kind {
  return kind === 'mixed' ? MIXED[n % MIXED.length]! : kind;
}
