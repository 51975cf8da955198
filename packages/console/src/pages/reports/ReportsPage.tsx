import { useState, type FormEvent } from 'react';
import type { Report } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { dateTime } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';

const SPANS = { '1h': 3600_000, '24h': 86400_000, '7d': 7 * 86400_000, '30d': 30 * 86400_000 };
type Span = keyof typeof SPANS;

/** Reports: generated in the background on the hub, listed here, opened as HTML in the page or saved as PDF. */
export default function ReportsPage() {
  const { client, can } = useSession();
  const [reports, reload] = useAsync((signal) => client.listReports(50, { signal }), [client]);
  const [scope, setScope] = useState<'fleet' | 'device'>('fleet');
  const [device, setDevice] = useState('');
  const [selector, setSelector] = useState('');
  const [span, setSpan] = useState<Span>('24h');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [open, setOpen] = useState<{ report: Report; html: string } | undefined>(undefined);

  const generate = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await client.createReport({
        scope,
        from: Date.now() - SPANS[span],
        ...(scope === 'device' ? { device } : selector ? { selector } : {}),
      });
      reload();
      // The hub answers as soon as the report is generated (a long-poll, not a timer).
      const done = await client.waitForReport(created.id);
      reload();
      if (done.status === 'ready') await show(done);
      else setError(new Error(`The report failed: ${done.error ?? 'no reason given'}`));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const show = async (report: Report): Promise<void> => {
    try {
      setOpen({ report, html: await client.reportHtml(report.id) });
    } catch (err) {
      setError(err);
    }
  };

  const pdf = async (report: Report): Promise<void> => {
    try {
      const bytes = await client.reportPdf(report.id);
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/pdf' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `flotilla-report-${report.id}.pdf`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: '1rem' }}>
      <h1>Reports</h1>
      {can('reports:write') && (
        <form
          className="panel row"
          onSubmit={(e) => void generate(e)}
          aria-label="Generate a report"
          style={{ alignItems: 'flex-end' }}
        >
          <label className="field">
            Scope
            <select value={scope} onChange={(e) => setScope(e.target.value as 'fleet' | 'device')}>
              <option value="fleet">fleet</option>
              <option value="device">one device</option>
            </select>
          </label>
          {scope === 'device' ? (
            <label className="field">
              Device
              <input
                required
                value={device}
                onChange={(e) => setDevice(e.target.value.trim())}
                placeholder="lekiwi-0001"
              />
            </label>
          ) : (
            <label className="field">
              Selector
              <input
                value={selector}
                onChange={(e) => setSelector(e.target.value)}
                placeholder="site=lab (all when empty)"
              />
            </label>
          )}
          <label className="field">
            Covering the last
            <select value={span} onChange={(e) => setSpan(e.target.value as Span)}>
              {(Object.keys(SPANS) as Span[]).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button className="primary" type="submit" disabled={busy}>
            {busy ? 'Generating…' : 'Generate report'}
          </button>
        </form>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <section className="panel" aria-label="Report list">
        {reports.status === 'error' && <ErrorMessage error={reports.error} what="Cannot load reports" />}
        {reports.data && reports.data.length === 0 && <p className="muted">No reports yet.</p>}
        {reports.data && reports.data.length > 0 && (
          <table className="list">
            <thead>
              <tr>
                <th>Created</th>
                <th>Covers</th>
                <th>Scope</th>
                <th>Status</th>
                <th>
                  <span className="skip">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {reports.data.map((r) => (
                <tr key={r.id}>
                  <td>
                    {dateTime(r.createdAt)} <div className="muted">{r.createdBy}</div>
                  </td>
                  <td>
                    {dateTime(r.from)} – {dateTime(r.to)}
                  </td>
                  <td>{r.scope === 'device' ? r.device : r.selector ? `fleet (${r.selector})` : 'fleet'}</td>
                  <td className={r.status === 'failed' ? 'bad' : ''}>{r.status}</td>
                  <td>
                    {r.status === 'ready' && (
                      <div className="row">
                        <button type="button" onClick={() => void show(r)} aria-label={`Open report ${r.id}`}>
                          Open
                        </button>
                        <button type="button" onClick={() => void pdf(r)} aria-label={`Download report ${r.id} as PDF`}>
                          PDF
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {open && (
        <section className="panel" aria-label="Open report">
          <div className="spread">
            <h2>Report of {dateTime(open.report.createdAt)}</h2>
            <button type="button" onClick={() => setOpen(undefined)}>
              Close
            </button>
          </div>
          {/* The report is the hub's own self-contained page; sandboxed, it runs no script. */}
          <iframe
            title="Report"
            sandbox=""
            srcDoc={open.html}
            style={{
              width: '100%',
              height: '70vh',
              border: '1px solid var(--border)',
              borderRadius: 8,
              background: '#fff',
            }}
          />
        </section>
      )}
    </div>
  );
}
