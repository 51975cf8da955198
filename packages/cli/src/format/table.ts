import { visibleLength, type Style } from './style.js';

/**
 * An aligned table: a header row, then one row per item, columns two spaces apart. The last
 * column is not padded, so long labels do not drag trailing spaces along.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** Shortens text to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
