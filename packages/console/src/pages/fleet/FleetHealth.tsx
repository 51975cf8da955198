import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';
import { fleetAverage } from './fleet-averages.ts';

const TimeChart = lazy(() => import('../../charts/TimeChart.tsx').then((m) => ({ default: m.TimeChart })));

const RANGES = {
  '1h': { ms: 3600_000, bucket: '1m' },
  '6h': { ms: 6 * 3600_000, bucket: '5m' },
  '24h': { ms: 86400_000, bucket: '15m' },
};
type Range = keyof typeof RANGES;
const METRICS = [
  { metric: 'battery.soc', label: 'battery %' },
  { metric: 'system.temperature', label: 'CPU °C' },
  { metric: 'system.cpu', label: 'CPU %' },
];
/** Live samples of the counts the page keeps (one per 5 s: a day, the longest range). */
const KEEP = 17_280;
/** How often the page samples its own live counts between the hub's samples. */
const LIVE_SAMPLE_MS = 5000;

interface Counts {
  t: number[];
  online: number[];
  alerting: number[];
}

/**
 * Fleet health over time: the fleet's average battery, temperature and load per bucket (from
 * the telemetry store), and the online and alerting counts: the hub's samples over the range
 * (`GET /api/v1/fleet/health`), then the page's own, from the live view every 5 s (no request).
 */
export function FleetHealth({ online, total, alerting }: { online: number; total: number; alerting: number }) {
  const { client } = useSession();
  const [range, setRange] = useState<Range>('1h');
  const [series] = useAsync(
    async (signal) => {
      const { ms, bucket } = RANGES[range];
      const from = Date.now() - ms;
      return Promise.all(METRICS.map((m) => fleetAverage(client, { metric: m.metric, from, bucket }, signal)));
    },
    [client, range],
  );
  const [history] = useAsync(
    (signal) => client.fleetHealth({ from: Date.now() - RANGES[range].ms }, { signal }),
    [client, range],
  );

  const averages = useMemo(() => {
    if (series.status !== 'ok') return undefined;
    const times = [...new Set(series.data.flatMap((s) => s.map((p) => p.ts)))].sort((a, b) => a - b);
    const columns = series.data.map((s) => {
      const byTs = new Map(s.map((p) => [p.ts, p.value]));
      return times.map((t) => byTs.get(t) ?? null);
    });
    return [times.map((t) => t / 1000), ...columns] as [number[], ...(number | null)[][]];
  }, [series]);

  const [live, setLive] = useState<Counts>({ t: [], online: [], alerting: [] });
  const latest = useRef({ online, alerting });
  latest.current = { online, alerting };
  useEffect(() => {
    const sample = (): void =>
      setLive((c) => ({
        t: [...c.t, Date.now() / 1000].slice(-KEEP),
        online: [...c.online, latest.current.online].slice(-KEEP),
        alerting: [...c.alerting, latest.current.alerting].slice(-KEEP),
      }));
    const timer = window.setInterval(sample, LIVE_SAMPLE_MS);
    return () => window.clearInterval(timer);
  }, []);
  // The first live sample once the fleet has loaded, rather than the zeros before it.
  useEffect(() => {
    if (total > 0)
      setLive((c) => (c.t.length > 0 ? c : { t: [Date.now() / 1000], online: [online], alerting: [alerting] }));
  }, [total, online, alerting]);

  // The hub's samples, then the live ones newer than its newest, within the range.
  const counts = useMemo((): [number[], number[], number[]] => {
    const since = (Date.now() - RANGES[range].ms) / 1000;
    const points = history.data?.points ?? [];
    const t = points.map((p) => p.ts / 1000);
    const on = points.map((p) => p.online);
    const al = points.map((p) => p.alerting);
    const after = t.at(-1) ?? since;
    for (let i = 0; i < live.t.length; i++) {
      const at = live.t[i] as number;
      if (at <= after || at < since) continue;
      t.push(at);
      on.push(live.online[i] as number);
      al.push(live.alerting[i] as number);
    }
    return [t, on, al];
  }, [history, live, range]);

  return (
    <section className="grid" aria-label="Fleet health over time">
      <div className="panel">
        <div className="spread">
          <h2>Fleet averages</h2>
          <div className="tabs" role="group" aria-label="Time range">
            {(Object.keys(RANGES) as Range[]).map((r) => (
              <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
                {r}
              </button>
            ))}
          </div>
        </div>
        {series.status === 'error' && <ErrorMessage error={series.error} what="Fleet telemetry" />}
        {averages && (
          <Suspense fallback={<div className="chart" />}>
            <TimeChart
              label="Fleet average battery, temperature and CPU"
              series={METRICS.map((m) => ({ label: m.label }))}
              data={averages}
            />
          </Suspense>
        )}
      </div>
      <div className="panel">
        {/* The time range chosen beside the averages applies here too. */}
        <h2>Online and alerting, last {range}</h2>
        {history.status === 'error' && <ErrorMessage error={history.error} what="Fleet health" />}
        <Suspense fallback={<div className="chart" />}>
          <TimeChart
            label={`Devices online and alerting over the last ${range}`}
            series={[
              { label: 'online', color: '#10b981' },
              { label: 'alerting', color: '#ef4444' },
            ]}
            data={counts}
          />
        </Suspense>
      </div>
    </section>
  );
}
