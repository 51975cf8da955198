import type { StoredEvent } from '@flotilla/sdk';
import type { Style } from './style.js';
import { renderTable, truncate } from './table.js';
import { formatTimestamp, relativeTime } from './time.js';

const DATA_WIDTH = 60;

function data(e: StoredEvent): string {
  return Object.keys(e.data).length ? truncate(JSON.stringify(e.data), DATA_WIDTH) : '';
}

/** `flotilla events`: oldest first, as a log reads. */
export function renderEventTable(events: readonly StoredEvent[], now: number, style: Style): string {
  const rows = events.map((e) => [
    formatTimestamp(e.ts),
    relativeTime(e.ts, now),
    e.aggregateId,
    style.cyan(e.type),
    e.metadata.actor,
    data(e),
  ]);
  return renderTable(['TIME', 'AGE', 'DEVICE', 'TYPE', 'ACTOR', 'DATA'], rows, style);
}

/**
 * `flotilla events --follow`: one line per event as it arrives. Columns have fixed widths,
 * since a stream cannot be measured before it is printed.
 */
export function renderEventLine(e: StoredEvent, style: Style): string {
  return (
    [
      formatTimestamp(e.ts),
      e.aggregateId.padEnd(16),
      style.cyan(e.type.padEnd(22)),
      e.metadata.actor.padEnd(18),
      data(e),
    ]
      .join('  ')
      .trimEnd() + '\n'
  );
}
