import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';

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
/** How many samples of the counts the page keeps (one per 5 s: an hour). */
const KEEP = 720;

/**
 * Fleet health over time: the fleet's average battery, temperature and load per bucket (from
 * the telemetry store), and the online and alerting counts since the page opened (from the live
 * view, sampled every 5 s in the browser: no request).
 */
export function FleetHealth({ online, total, alerting }: { online: number; total: number; alerting: number }) {
  const { client } = useSession();
  const [range, setRange] = useState<Range>('1h');
  const [series] = useAsync(
    async (signal) => {
      const { ms, bucket } = RANGES[range];
      const from = Date.now() - ms;
      return Promise.all(
        METRICS.map((m) => client.fleetTelemetry({ metric: m.metric, from, bucket, agg: 'avg' }, { signal })),
      );
    },
    [client, range],
  );

  const averages = useMemo(() => {
    if (series.status !== 'ok') return undefined;
    const times = [...new Set(series.data.flatMap((s) => s.points.map((p) => p.ts)))].sort((a, b) => a - b);
    const columns = series.data.map((s) => {
      const byTs = new Map(s.points.map((p) => [p.ts, p.value]));
      return times.map((t) => byTs.get(t) ?? null);
    });
    return [times.map((t) => t / 1000), ...columns] as [number[], ...(number | null)[][]];
  }, [series]);

  const [counts, setCounts] = useState<{ t: number[]; online: number[]; alerting: number[] }>({
    t: [],
    online: [],
    alerting: [],
  });
  const latest = useRef({ online, alerting });
  latest.current = { online, alerting };
  useEffect(() => {
    const sample = (): void =>
      setCounts((c) => ({
        t: [...c.t, Date.now() / 1000].slice(-KEEP),
        online: [...c.online, latest.current.online].slice(-KEEP),
        alerting: [...c.alerting, latest.current.alerting].slice(-KEEP),
      }));
    const timer = window.setInterval(sample, 5000);
    return () => window.clearInterval(timer);
  }, []);
  // The first sample once the fleet has loaded, rather than the zeros before it.
  useEffect(() => {
    if (total > 0)
      setCounts((c) => (c.t.length > 0 ? c : { t: [Date.now() / 1000], online: [online], alerting: [alerting] }));
  }, [total, online, alerting]);

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
        <h2>Online and alerting</h2>
        <Suspense fallback={<div className="chart" />}>
          <TimeChart
            label="Devices online and alerting since this page opened"
            series={[
              { label: 'online', color: '#10b981' },
              { label: 'alerting', color: '#ef4444' },
            ]}
            data={[counts.t, counts.online, counts.alerting]}
          />
        </Suspense>
      </div>
    </section>
  );
}
