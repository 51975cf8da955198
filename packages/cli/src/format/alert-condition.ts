import type { AlertCondition } from '@flotilla/sdk';
import { UsageError } from '../errors.js';

/**
 * Alert conditions in one line, both ways: `flotilla alert-rules create --when EXPR` parses them,
 * `flotilla alert-rules` prints them, in the same words:
 *   temperature > 70 for 30s clear 65     a threshold, with a `for` and a hysteresis
 *   battery below 20 for 1m                the battery shorthand (metric `battery`)
 *   offline for 5m
 *   no-data for 10m  |  no-data temperature for 10m
 *   rate(battery) < -1 per minute over 5m [for 1m] [clear -0.5]
 * The hub validates the values (durations, metric names); this only reads the shape.
 */

const OPS = ['>', '>=', '<', '<='] as const;
type Op = (typeof OPS)[number];

function bad(expr: string, why: string): never {
  throw new UsageError(`--when ${JSON.stringify(expr)}: ${why}`);
}

function numberAt(expr: string, word: string | undefined, what: string): number {
  const n = word === undefined ? NaN : Number(word);
  if (word === undefined || word.trim() === '' || !Number.isFinite(n)) bad(expr, `${what} must be a number`);
  return n;
}

/** Reads `for D` and `clear V` (either order) from the words after the core of an expression. */
function tail(expr: string, words: string[], allowClear: boolean): { for?: string; clear?: number } {
  const out: { for?: string; clear?: number } = {};
  for (let i = 0; i < words.length; i += 2) {
    const [key, value] = [words[i], words[i + 1]];
    if (value === undefined) bad(expr, `${key} needs a value`);
    if (key === 'for' && out.for === undefined) out.for = value;
    else if (key === 'clear' && allowClear && out.clear === undefined) out.clear = numberAt(expr, value, 'clear');
    else bad(expr, `unexpected ${JSON.stringify(key)}`);
  }
  return out;
}

function op(expr: string, word: string | undefined): Op {
  if (!(OPS as readonly (string | undefined)[]).includes(word)) bad(expr, `expected one of ${OPS.join(' ')}`);
  return word as Op;
}

export function parseCondition(expr: string): AlertCondition {
  // `temperature>70` reads as `temperature > 70`.
  const words = expr
    .replace(/(>=|<=|>|<)/g, ' $1 ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const [first, second, third] = words;
  if (first === undefined) bad(expr, 'empty condition');
  if (first === 'offline') {
    const rest = tail(expr, words.slice(1), false);
    if (rest.for === undefined) bad(expr, 'say for how long: offline for 5m');
    return { type: 'offline', for: rest.for };
  }
  if (first === 'no-data' || first === 'no_data') {
    const metric = second !== undefined && second !== 'for' ? second : undefined;
    const rest = tail(expr, words.slice(metric === undefined ? 1 : 2), false);
    if (rest.for === undefined) bad(expr, 'say for how long: no-data for 10m');
    return { type: 'no_data', for: rest.for, ...(metric !== undefined && { metric }) };
  }
  const rate = /^rate\((.+)\)$/.exec(first);
  if (rate) {
    const comparator = op(expr, second);
    const value = numberAt(expr, third, 'the rate');
    if (words[3] !== 'per' || words[5] !== 'over')
      bad(expr, 'write rate(METRIC) OP VALUE per second|minute|hour over WINDOW');
    const per = words[4];
    if (per !== 'second' && per !== 'minute' && per !== 'hour') bad(expr, 'per must be second, minute or hour');
    const window = words[6];
    if (window === undefined) bad(expr, 'over needs a window');
    return {
      type: 'rate',
      metric: rate[1] as string,
      op: comparator,
      value,
      per,
      window,
      ...tail(expr, words.slice(7), true),
    };
  }
  if (second === 'below') {
    const below = numberAt(expr, third, 'below');
    return {
      type: 'battery',
      below,
      ...(first !== 'battery' && { metric: first }),
      ...tail(expr, words.slice(3), true),
    };
  }
  const comparator = op(expr, second);
  const value = numberAt(expr, third, 'the value');
  return { type: 'threshold', metric: first, op: comparator, value, ...tail(expr, words.slice(3), true) };
}

function withTail(text: string, c: { for?: string | number; clear?: number }): string {
  return `${text}${c.for !== undefined ? ` for ${c.for}` : ''}${c.clear !== undefined ? ` clear ${c.clear}` : ''}`;
}

/** A condition tree in the words `parseCondition` reads, with `and`/`or` and parentheses. */
export function conditionText(c: AlertCondition, nested = false): string {
  if ('and' in c || 'or' in c) {
    const [word, list] = 'and' in c ? ['and', c.and] : ['or', c.or];
    const text = list.map((child) => conditionText(child, true)).join(` ${word} `);
    return nested && list.length > 1 ? `(${text})` : text;
  }
  switch (c.type) {
    case 'threshold':
      return withTail(`${c.metric} ${c.op} ${c.value}`, c);
    case 'battery':
      return withTail(`${c.metric ?? 'battery'} below ${c.below}`, c);
    case 'offline':
      return `offline for ${c.for}`;
    case 'no_data':
      return `no-data${c.metric !== undefined ? ` ${c.metric}` : ''} for ${c.for}`;
    case 'rate':
      return withTail(`rate(${c.metric}) ${c.op} ${c.value} per ${c.per ?? 'minute'} over ${c.window}`, c);
  }
}
