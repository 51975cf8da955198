import { useCallback, useEffect, useState } from 'react';
import type { Alert } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { ago, dateTime } from '../../app/format.ts';
import { devicePath, Link } from '../../app/router.ts';
import { useSession } from '../../app/session.tsx';
import { useLive } from '../../app/use-live.ts';
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
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const [actionError, setActionError] = useState<unknown>(undefined);

  useLive(ALERT_SUBJECTS, (m) => {
    const alert = alertOf(m);
    if (alert) setAlerts((list) => merge(list, alert, tab === 'open' ? isOpen : () => true));
  });

  const load = useCallback(
    async (after: string | null, signal?: AbortSignal) => {
      setLoading(true);
      try {
        const page = await client.alerts.list(
          {
            ...(tab === 'open' && { status: ['firing', 'acknowledged'] }),
            limit: PAGE,
            ...(after && { cursor: after }),
          },
          signal ? { signal } : {},
        );
        setAlerts((list) => (after ? [...list, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setError(undefined);
      } catch (err) {
        if (!signal?.aborted) setError(err);
      } finally {
        setLoading(false);
      }
    },
    [client, tab],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(null, controller.signal);
    return () => controller.abort();
  }, [load]);

  const act = async (alert: Alert, action: 'acknowledge' | 'resolve'): Promise<void> => {
    setActionError(undefined);
    try {
      const changed = await client.alerts[action](alert.id);
      setAlerts((list) => merge(list, changed, tab === 'open' ? isOpen : () => true));
    } catch (err) {
      setActionError(err);
    }
  };

  const firing = alerts.filter((a) => a.status === 'firing').length;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: '1rem' }}>
      <h1>Alerts</h1>
      <div className="tabs" role="group" aria-label="Which alerts">
        <button type="button" aria-pressed={tab === 'open'} onClick={() => setTab('open')}>
          Open{tab === 'open' ? ` (${alerts.length}, ${firing} firing)` : ''}
        </button>
        <button type="button" aria-pressed={tab === 'history'} onClick={() => setTab('history')}>
          History
        </button>
      </div>
      {error !== undefined && <ErrorMessage error={error} what="Cannot load alerts" />}
      {actionError !== undefined && <ErrorMessage error={actionError} />}
      <section className="panel" aria-label={tab === 'open' ? 'Open alerts' : 'Alert history'}>
        {alerts.length === 0 && !loading && (
          <p className="muted">{tab === 'open' ? 'Nothing is firing.' : 'No alerts yet.'}</p>
        )}
        {alerts.length > 0 && (
          <table className="list">
            <thead>
              <tr>
                <th>Severity</th>
                <th>Alert</th>
                <th>Device</th>
                <th>Status</th>
                <th>Started</th>
                <th>
                  <span className="skip">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id} data-alert={a.id}>
                  <td>
                    <span className={`badge ${a.severity}`}>{a.severity}</span>
                  </td>
                  <td>
                    <b>{a.ruleName}</b>
                    <div className="muted">{a.summary}</div>
                  </td>
                  <td>
                    <Link to={devicePath(a.device)} className="mono">
                      {a.device}
                    </Link>
                  </td>
                  <td>
                    <span className={a.status === 'firing' ? 'bad' : a.status === 'acknowledged' ? 'warn' : 'muted'}>
                      {a.status}
                    </span>
                    {a.acknowledgedBy && <div className="muted">ack by {a.acknowledgedBy}</div>}
                    {a.resolvedAt !== null && (
                      <div className="muted">
                        resolved {dateTime(a.resolvedAt)} ({a.resolution})
                      </div>
                    )}
                  </td>
                  <td title={dateTime(a.startedAt)}>{ago(a.startedAt)}</td>
                  <td>
                    {can('alerts:ack') && a.status !== 'resolved' && (
                      <div className="row">
                        {a.status === 'firing' && (
                          <button
                            type="button"
                            onClick={() => void act(a, 'acknowledge')}
                            aria-label={`Acknowledge ${a.ruleName} on ${a.device}`}
                          >
                            Acknowledge
                          </button>
                        )}
                        <button
                          type="button"
                          onClick={() => void act(a, 'resolve')}
                          aria-label={`Resolve ${a.ruleName} on ${a.device}`}
                        >
                          Resolve
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" disabled={loading} onClick={() => void load(cursor)}>
            Load more
          </button>
        )}
      </section>
      <RuleEditor />
    </div>
  );
}
