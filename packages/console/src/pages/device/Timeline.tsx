import type { StoredEvent } from '@flotilla/sdk';
import { time } from '../../app/format.ts';

/** What an event says in a few words, from its type and data. */
export function eventSummary(event: StoredEvent): string {
  const d = event.data as Record<string, unknown>;
  const alert = d['alert'] as { summary?: string; ruleName?: string } | undefined;
  if (alert) return alert.summary ?? alert.ruleName ?? '';
  if (typeof d['capability'] === 'string') return `${d['capability']}.${String(d['command'] ?? '')}`;
  if (typeof d['reason'] === 'string') return d['reason'];
  if (typeof d['message'] === 'string') return d['message'];
  if (typeof d['name'] === 'string') return d['name'];
  return '';
}

/** The device's event log, newest first: connections, changes, commands, alerts, teleoperation. */
export function Timeline({ events }: { events: readonly StoredEvent[] }) {
  if (events.length === 0) return <p className="muted">No events.</p>;
  return (
    <ol
      aria-label="Event timeline"
      style={{ listStyle: 'none', padding: 0, margin: 0, maxHeight: 260, overflowY: 'auto' }}
    >
      {events.map((e) => (
        <li key={e.id} style={{ padding: '0.2rem 0', borderBottom: '1px solid var(--border)' }}>
          <span className="muted mono">{time(e.ts)}</span> <b>{e.type}</b> <span>{eventSummary(e)}</span>{' '}
          <span className="muted">{e.metadata.actor}</span>
        </li>
      ))}
    </ol>
  );
}
