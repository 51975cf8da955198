const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per bucket from `from` to `to`: the bar's height is the value between the
 * series' min and max, a space where the bucket has no point (the device was silent).
 */
export function sparkline(
  points: ReadonlyArray<{ ts: number; value: number }>,
  from: number,
  to: number,
  bucketMs: number,
): string {
  const slots = Math.max(1, Math.ceil((to - from) / bucketMs));
  const values: Array<number | undefined> = new Array<number | undefined>(slots).fill(undefined);
  for (const p of points) {
    const i = Math.floor((p.ts - from) / bucketMs);
    if (i >= 0 && i < slots) values[i] = p.value;
  }
  const present = values.filter((v): v is number => v !== undefined);
  if (present.length === 0) return ' '.repeat(slots);
  const min = Math.min(...present);
  const span = Math.max(...present) - min;
  return values
    .map((v) => {
      if (v === undefined) return ' ';
      const level = span === 0 ? BARS.length >> 1 : Math.round(((v - min) / span) * (BARS.length - 1));
      return BARS[level];
    })
    .join('');
}
