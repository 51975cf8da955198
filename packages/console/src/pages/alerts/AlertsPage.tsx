import { useState } from 'react';
import type { Alert } from '@flotilla/sdk';
import { DataTable, type Column } from '../../app/DataTable.tsx';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { ago, dateTime } from '../../app/format.ts';
import { devicePath, Link } from '../../app/router.ts';
import { useSession } from '../../app/session.tsx';
import { useAction } from '../../app/use-action.ts';
import { useLive } from '../../app/use-live.ts';
import { usePaged } from '../../app/use-paged.ts';
import { ALERT_SUBJECTS, alertOf } from '../../live/alert-events.ts';
import { RuleEditor } from './RuleEditor.tsx';

type Tab = 'open' | 'history';
const PAGE = 100;

/** Puts a changed alert in a list (newest first), or drops it when it no longer belongs there. */
function merge(list: Alert[], alert: Alert, belongs: (a: Alert) => boolean): Alert[] {
  const rest = list.filter((a) => a.id !== alert.id);
  if (!belongs(alert)) return rest;
  return [...rest, alert].sort((a, b) => b.startedAt - a.startedAt);
}

const isOpen = (a: Alert): boolean => a.status !== 'resolved';

/** Alerts firing now and their history, acknowledged and resolved here; alert rules for those who may change them. */
export default function AlertsPage() {
  const { client, can } = useSession();
  const [tab, setTab] = useState<Tab>('open');
  const alerts = usePaged(
    (cursor, signal) =>
      client.alerts.list(
        {
          ...(tab === 'open' && { status: ['firing', 'acknowledged'] }),
          limit: PAGE,
          ...(cursor && { cursor }),
        },
        signal ? { signal } : {},
      ),
    [client, tab],
  );
  const action = useAction();
  const belongs = tab === 'open' ? isOpen : () => true;

  useLive(ALERT_SUBJECTS, (m) => {
    const alert = alertOf(m);
    if (alert) alerts.setItems((list) => merge(list, alert, belongs));
  });

  const act = (alert: Alert, what: 'acknowledge' | 'resolve'): void => {
    void action.run(async () => {
      const changed = await client.alerts[what](alert.id);
      alerts.setItems((list) => merge(list, changed, belongs));
    });
  };

  const columns: Array<Column<Alert> | false> = [
    { header: 'Severity', cell: (a) => <span className={`badge ${a.severity}`}>{a.severity}</span> },
    {
      header: 'Alert',
      cell: (a) => (
        <>
          <b>{a.ruleName}</b>
          <div className="muted">{a.summary}</div>
        </>
      ),
    },
    {
      header: 'Device',
      cell: (a) => (
        <Link to={devicePath(a.device)} className="mono">
          {a.device}
        </Link>
      ),
    },
    {
      header: 'Status',
      cell: (a) => (
        <>
          <span className={a.status === 'firing' ? 'bad' : a.status === 'acknowledged' ? 'warn' : 'muted'}>
            {a.status}
          </span>
          {a.acknowledgedBy && <div className="muted">ack by {a.acknowledgedBy}</div>}
          {a.resolvedAt !== null && (
            <div className="muted">
              resolved {dateTime(a.resolvedAt)} ({a.resolution})
            </div>
          )}
        </>
      ),
    },
    { header: 'Started', cell: (a) => <span title={dateTime(a.startedAt)}>{ago(a.startedAt)}</span> },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (a) =>
        can('alerts:ack') &&
        a.status !== 'resolved' && (
          <div className="row">
            {a.status === 'firing' && (
              <button
                type="button"
                onClick={() => act(a, 'acknowledge')}
                aria-label={`Acknowledge ${a.ruleName} on ${a.device}`}
              >
                Acknowledge
              </button>
            )}
            <button type="button" onClick={() => act(a, 'resolve')} aria-label={`Resolve ${a.ruleName} on ${a.device}`}>
              Resolve
            </button>
          </div>
        ),
    },
  ];

  const firing = alerts.items.filter((a) => a.status === 'firing').length;
  return (
    <div className="stack">
      <h1>Alerts</h1>
      <div className="tabs" role="group" aria-label="Which alerts">
        <button type="button" aria-pressed={tab === 'open'} onClick={() => setTab('open')}>
          Open{tab === 'open' ? ` (${alerts.items.length}, ${firing} firing)` : ''}
        </button>
        <button type="button" aria-pressed={tab === 'history'} onClick={() => setTab('history')}>
          History
        </button>
      </div>
      {alerts.error !== undefined && <ErrorMessage error={alerts.error} what="Cannot load alerts" />}
      {action.error !== undefined && <ErrorMessage error={action.error} />}
      <section className="panel" aria-label={tab === 'open' ? 'Open alerts' : 'Alert history'}>
        <DataTable
          columns={columns}
          rows={alerts.items}
          rowData={(a) => ({ 'data-alert': a.id })}
          empty={tab === 'open' ? 'Nothing is firing.' : 'No alerts yet.'}
          loading={alerts.loading}
          more={{ available: alerts.hasMore, load: alerts.loadMore }}
        />
      </section>
      <RuleEditor />
    </div>
  );
}
