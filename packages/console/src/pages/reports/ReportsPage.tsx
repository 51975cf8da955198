import { useState } from 'react';
import type { Report } from '@flotilla/sdk';
import { ListingTable, type Column } from '../../app/DataTable.tsx';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { FormRow } from '../../app/FormRow.tsx';
import { dateTime } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import { useAction } from '../../app/use-action.ts';
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
  const generating = useAction();
  const setError = generating.setError;
  const [open, setOpen] = useState<{ report: Report; html: string } | undefined>(undefined);

  const generate = (): Promise<boolean> =>
    generating.run(async () => {
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
      else throw new Error(`The report failed: ${done.error ?? 'no reason given'}`);
    });

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

  const columns: ReadonlyArray<Column<Report>> = [
    {
      header: 'Created',
      cell: (r) => (
        <>
          {dateTime(r.createdAt)} <div className="muted">{r.createdBy}</div>
        </>
      ),
    },
    {
      header: 'Covers',
      cell: (r) => (
        <>
          {dateTime(r.from)} – {dateTime(r.to)}
        </>
      ),
    },
    {
      header: 'Scope',
      cell: (r) => (r.scope === 'device' ? r.device : r.selector ? `fleet (${r.selector})` : 'fleet'),
    },
    { header: 'Status', cell: (r) => <span className={r.status === 'failed' ? 'bad' : ''}>{r.status}</span> },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (r) =>
        r.status === 'ready' && (
          <div className="row">
            <button type="button" onClick={() => void show(r)} aria-label={`Open report ${r.id}`}>
              Open
            </button>
            <button type="button" onClick={() => void pdf(r)} aria-label={`Download report ${r.id} as PDF`}>
              PDF
            </button>
          </div>
        ),
    },
  ];

  return (
    <div className="stack">
      <h1>Reports</h1>
      {can('reports:write') && (
        <FormRow className="panel" label="Generate a report" onSubmit={generate}>
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
                placeholder="site=lab (empty: all)"
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
          <button className="primary" type="submit" disabled={generating.busy}>
            {generating.busy ? 'Generating…' : 'Generate report'}
          </button>
        </FormRow>
      )}
      {generating.error !== undefined && <ErrorMessage error={generating.error} />}
      <section className="panel" aria-label="Report list">
        <ListingTable listing={reports} failed="Cannot load reports" columns={columns} empty="No reports yet." />
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
