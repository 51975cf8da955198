/**
 * How numbers, times and durations read in a report, the same in its summary, HTML and PDF.
 * Times are UTC: a report is read by people in several time zones and must say one thing.
 */

export function percent(fraction: number | null): string {
  if (fraction === null) return 'n/a';
  const p = fraction * 100;
  // 99.96 % must not read as 100 %, nor 0.04 % as 0 %.
  if (p > 99.9 && p < 100) return '>99.9%';
  if (p > 0 && p < 0.1) return '<0.1%';
  return `${p.toFixed(1).replace(/\.0$/, '')}%`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A measured value: at most one decimal from 100 up, two below. */
export function value(v: number | null): string {
  if (v === null) return 'n/a';
  if (Number.isInteger(v)) return count(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2).replace(/0$/, '');
}

/** `2 d 3 h`, `2 h 5 min`, `4 min 10 s`, `12 s`: the largest unit and the next one when not zero. */
export function duration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const parts: [number, string][] = [];
  for (const [size, name] of [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ] as const) {
    parts.push([Math.floor(rest / size), name]);
    rest %= size;
  }
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0 s';
  const shown = parts.slice(first, first + 2).filter(([n]) => n > 0);
  return shown.map(([n, name]) => `${n} ${name}`).join(' ');
}

/** `2024-05-01 12:00 UTC` (seconds only when not zero). */
export function utc(ms: number): string {
  const iso = new Date(ms).toISOString();
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds === '00' ? '' : `:${seconds}`} UTC`;
}

/** `2024-05-01 12:00 – 2024-05-02 12:00 UTC`, the date once when both ends share it. */
export function utcRange(from: number, to: number): string {
  const a = utc(from).replace(/ UTC$/, '');
  const b = utc(to).replace(/ UTC$/, '');
  return a.slice(0, 10) === b.slice(0, 10) ? `${a} – ${b.slice(11)} UTC` : `${a} – ${b} UTC`;
}

/** Up to `max` names, then `and N more`. */
export function list(names: readonly string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
