import { lazy, Suspense, useMemo, useState, useSyncExternalStore } from 'react';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';
import type { TelemetryStore } from './telemetry-store.ts';

const TimeChart = lazy(() => import('../../charts/TimeChart.tsx').then((m) => ({ default: m.TimeChart })));

/** `live` follows the last five minutes as messages arrive; the others read history in buckets. */
export const RANGES = {
  live: { label: 'Live', ms: 0, bucket: '' },
  '15m': { label: '15 min', ms: 15 * 60_000, bucket: '10s' },
  '1h': { label: '1 h', ms: 3600_000, bucket: '30s' },
  '6h': { label: '6 h', ms: 6 * 3600_000, bucket: '2m' },
  '24h': { label: '24 h', ms: 86400_000, bucket: '5m' },
  '7d': { label: '7 d', ms: 7 * 86400_000, bucket: '1h' },
} as const;
export type RangeKey = keyof typeof RANGES;

/** Metrics grouped by their first name part (`battery.soc`, `battery.voltage` → `battery`), a chart each. */
export function groupMetrics(metrics: readonly string[]): Array<{ group: string; metrics: string[] }> {
  const groups = new Map<string, string[]>();
  for (const metric of metrics) {
    const group = metric.includes('.') ? (metric.split('.')[0] as string) : metric;
    groups.set(group, [...(groups.get(group) ?? []), metric]);
  }
  return [...groups.entries()].map(([group, list]) => ({ group, metrics: list }));
}

function LiveChart({ store, group, metrics }: { store: TelemetryStore; group: string; metrics: string[] }) {
  const version = useSyncExternalStore(store.subscribe, store.getVersion);
  const data = useMemo(() => {
    const rows = store.rows.filter((r) => metrics.some((m) => m in r.values));
    return [rows.map((r) => r.ts / 1000), ...metrics.map((m) => rows.map((r) => r.values[m] ?? null))] as [
      number[],
      ...(number | null)[][],
    ];
    // `version` is how the store says it changed.
  }, [store, metrics, version]);
  return (
    <TimeChart
      label={`${group}: ${metrics.join(', ')}, live`}
      series={metrics.map((label) => ({ label }))}
      data={data}
    />
  );
}

function HistoryChart({
  device,
  range,
  group,
  metrics,
}: {
  device: string;
  range: Exclude<RangeKey, 'live'>;
  group: string;
  metrics: string[];
}) {
  const { client } = useSession();
  const [state] = useAsync(
    async (signal) => {
      const { ms, bucket } = RANGES[range];
      const from = Date.now() - ms;
      return Promise.all(
        metrics.map((metric) => client.telemetry(device, { metric, from, bucket, agg: 'avg' }, { signal })),
      );
    },
    [client, device, range, metrics.join(',')],
  );
  const data = useMemo(() => {
    if (state.status !== 'ok') return undefined;
    const times = [...new Set(state.data.flatMap((s) => s.points.map((p) => p.ts)))].sort((a, b) => a - b);
    return [
      times.map((t) => t / 1000),
      ...state.data.map((s) => {
        const byTs = new Map(s.points.map((p) => [p.ts, p.value]));
        return times.map((t) => byTs.get(t) ?? null);
      }),
    ] as [number[], ...(number | null)[][]];
  }, [state]);
  if (state.status === 'error') return <ErrorMessage error={state.error} what={`${group} history`} />;
  if (!data) return <div className="chart muted">Loading…</div>;
  return (
    <TimeChart
      label={`${group}: ${metrics.join(', ')}, last ${RANGES[range].label}`}
      series={metrics.map((label) => ({ label }))}
      data={data}
    />
  );
}

/** A chart per metric group, live or over a past range. */
export function TelemetryCharts({ device, store }: { device: string; store: TelemetryStore }) {
  const [range, setRange] = useState<RangeKey>('live');
  const version = useSyncExternalStore(store.subscribe, store.getVersion);
  // Regrouped only when a metric appears, not on every message.
  const names = store.metrics().join(',');
  const groups = useMemo(() => groupMetrics(names ? names.split(',') : []), [names]);
  void version;
  return (
    <section className="panel" aria-label="Telemetry charts">
      <div className="spread">
        <h2>Telemetry</h2>
        <div className="tabs" role="group" aria-label="Time range">
          {(Object.keys(RANGES) as RangeKey[]).map((key) => (
            <button key={key} type="button" aria-pressed={range === key} onClick={() => setRange(key)}>
              {RANGES[key].label}
            </button>
          ))}
        </div>
      </div>
      {groups.length === 0 && <p className="muted">No telemetry yet.</p>}
      <div className="grid">
        {groups.map(({ group, metrics }) => (
          <div key={group}>
            <h3 style={{ margin: '0.5rem 0 0.25rem', fontSize: '0.95rem' }}>{group}</h3>
            <Suspense fallback={<div className="chart" />}>
              {range === 'live' ? (
                <LiveChart store={store} group={group} metrics={metrics} />
              ) : (
                <HistoryChart device={device} range={range} group={group} metrics={metrics} />
              )}
            </Suspense>
          </div>
        ))}
      </div>
    </section>
  );
}
