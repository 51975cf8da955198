import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { EventFilter, StoredEvent } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { dateTime } from '../../app/format.ts';
import { devicePath, Link } from '../../app/router.ts';
import { useSession } from '../../app/session.tsx';
import { useLive } from '../../app/use-live.ts';
import { eventSummary } from '../device/Timeline.tsx';

const PAGE = 100;
const KEEP = 2000;

interface Filter {
  device: string;
  type: string;
  actor: string;
}

function matches(event: StoredEvent, f: Filter): boolean {
  if (f.device && event.aggregateId !== f.device) return false;
  if (f.type && event.type !== f.type) return false;
  if (f.actor && event.metadata.actor !== f.actor) return false;
  return true;
}

/** The event log, which is also the audit trail (who did what, `metadata.actor`), newest first and live. */
export default function EventsPage() {
  const { client } = useSession();
  const [draft, setDraft] = useState<Filter>({ device: '', type: '', actor: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);

  useLive(['flotilla.*.event.>'], (m) => {
    const event = m.data as StoredEvent;
    if (matches(event, filter))
      setEvents((list) => (list.some((e) => e.id === event.id) ? list : [event, ...list].slice(0, KEEP)));
  });

  const load = useCallback(
    async (after: string | null, signal?: AbortSignal) => {
      setLoading(true);
      const query: EventFilter = { order: 'desc', limit: PAGE };
      if (filter.device) query.device = filter.device;
      if (filter.type) query.type = filter.type;
      if (filter.actor) query.actor = filter.actor;
      if (after) query.cursor = after;
      try {
        const page = await client.listEvents(query, signal ? { signal } : {});
        setEvents((list) => (after ? [...list, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setError(undefined);
      } catch (err) {
        if (!signal?.aborted) setError(err);
      } finally {
        setLoading(false);
      }
    },
    [client, filter],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(null, controller.signal);
    return () => controller.abort();
  }, [load]);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    setFilter({ ...draft });
  };

  return (
    <div>
      <h1>Events</h1>
      <form
        className="row"
        onSubmit={apply}
        role="search"
        aria-label="Filter events"
        style={{ marginBottom: '0.75rem', alignItems: 'flex-end' }}
      >
        <label className="field">
          Device
          <input
            value={draft.device}
            placeholder="lekiwi-0001"
            onChange={(e) => setDraft({ ...draft, device: e.target.value.trim() })}
          />
        </label>
        <label className="field">
          Type
          <input
            value={draft.type}
            placeholder="DeviceConnected"
            onChange={(e) => setDraft({ ...draft, type: e.target.value.trim() })}
          />
        </label>
        <label className="field">
          Actor
          <input
            value={draft.actor}
            placeholder="user:admin"
            onChange={(e) => setDraft({ ...draft, actor: e.target.value.trim() })}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error !== undefined && <ErrorMessage error={error} what="Cannot load events" />}
      <section className="panel" aria-label="Event log">
        <table className="list">
          <thead>
            <tr>
              <th>Time</th>
              <th>Type</th>
              <th>Subject</th>
              <th>Actor</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td className="mono" style={{ whiteSpace: 'nowrap' }}>
                  {dateTime(e.ts)}
                </td>
                <td>{e.type}</td>
                <td>
                  <Link to={devicePath(e.aggregateId)} className="mono">
                    {e.aggregateId}
                  </Link>
                </td>
                <td className="mono">{e.metadata.actor}</td>
                <td className="muted">{eventSummary(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.length === 0 && !loading && <p className="muted">No events match.</p>}
        {cursor && (
          <button type="button" disabled={loading} onClick={() => void load(cursor)}>
            Load more
          </button>
        )}
      </section>
    </div>
  );
}
