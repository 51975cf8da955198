import { useState } from 'react';
import type { EventFilter, StoredEvent } from '@flotilla/sdk';
import { DataTable, type Column } from '../../app/DataTable.tsx';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { FormRow } from '../../app/FormRow.tsx';
import { dateTime } from '../../app/format.ts';
import { devicePath, Link } from '../../app/router.ts';
import { useSession } from '../../app/session.tsx';
import { useLive } from '../../app/use-live.ts';
import { usePaged } from '../../app/use-paged.ts';
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

const FIELDS: ReadonlyArray<{ key: keyof Filter; label: string; placeholder: string }> = [
  { key: 'device', label: 'Device', placeholder: 'lekiwi-0001' },
  { key: 'type', label: 'Type', placeholder: 'DeviceConnected' },
  { key: 'actor', label: 'Actor', placeholder: 'user:admin' },
];

/**
 * Whether an event's subject is a device, whose page the subject links to. The others are users
 * and reports (`user:admin`, `report:…`: a device id has no colon), alert rules and enrollment
 * tokens (ids that could pass for a device's, told apart by the event type).
 */
function aboutDevice(event: StoredEvent): boolean {
  return (
    !event.aggregateId.includes(':') && !event.type.startsWith('AlertRule') && !event.type.startsWith('EnrollmentToken')
  );
}

const COLUMNS: ReadonlyArray<Column<StoredEvent>> = [
  { header: 'Time', className: 'mono', style: { whiteSpace: 'nowrap' }, cell: (e) => dateTime(e.ts) },
  { header: 'Type', cell: (e) => e.type },
  {
    header: 'Subject',
    cell: (e) =>
      aboutDevice(e) ? (
        <Link to={devicePath(e.aggregateId)} className="mono">
          {e.aggregateId}
        </Link>
      ) : (
        <span className="mono">{e.aggregateId}</span>
      ),
  },
  { header: 'Actor', className: 'mono', cell: (e) => e.metadata.actor },
  { header: 'Details', className: 'muted', cell: (e) => eventSummary(e) },
];

/** The event log, which is also the audit trail (who did what, `metadata.actor`), newest first and live. */
export default function EventsPage() {
  const { client } = useSession();
  const [draft, setDraft] = useState<Filter>({ device: '', type: '', actor: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const events = usePaged(
    (cursor, signal) => {
      const query: EventFilter = { order: 'desc', limit: PAGE };
      if (filter.device) query.device = filter.device;
      if (filter.type) query.type = filter.type;
      if (filter.actor) query.actor = filter.actor;
      if (cursor) query.cursor = cursor;
      return client.listEvents(query, signal ? { signal } : {});
    },
    [client, filter],
  );

  useLive(['flotilla.*.event.>'], (m) => {
    const event = m.data as StoredEvent;
    if (matches(event, filter))
      events.setItems((list) => (list.some((e) => e.id === event.id) ? list : [event, ...list].slice(0, KEEP)));
  });

  return (
    <div>
      <h1>Events</h1>
      <FormRow label="Filter events" role="search" onSubmit={() => setFilter({ ...draft })}>
        {FIELDS.map((f) => (
          <label key={f.key} className="field">
            {f.label}
            <input
              value={draft[f.key]}
              placeholder={f.placeholder}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value.trim() })}
            />
          </label>
        ))}
        <button type="submit">Filter</button>
      </FormRow>
      {events.error !== undefined && <ErrorMessage error={events.error} what="Cannot load events" />}
      <section className="panel" aria-label="Event log">
        <DataTable
          columns={COLUMNS}
          rows={events.items}
          empty="No events match."
          loading={events.loading}
          more={{ available: events.hasMore, load: events.loadMore }}
        />
      </section>
    </div>
  );
}
