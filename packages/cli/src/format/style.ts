import type { Env, Output } from '../io.js';

/** ANSI styling, or none. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const paint = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string): string => text;

/**
 * Colours only for a terminal, and never when NO_COLOR is set to anything but the empty string
 * (https://no-color.org). Pipes and files get plain text.
 */
export function styleFor(out: Output, env: Env): Style {
  const enabled = out.isTTY === true && !env['NO_COLOR'];
  if (!enabled) return { enabled, bold: plain, dim: plain, green: plain, red: plain, yellow: plain, cyan: plain };
  return {
    enabled,
    bold: paint(1, 22),
    dim: paint(2, 22),
    green: paint(32, 39),
    red: paint(31, 39),
    yellow: paint(33, 39),
    cyan: paint(36, 39),
  };
}

// Built from a string: a control character in a regex literal reads as a typo (no-control-regex).
const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Width on screen, without escape codes. */
export function visibleLength(text: string): number {
  return text.replace(ansi, '').length;
}
