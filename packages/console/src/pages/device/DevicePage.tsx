import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { Device, LogLine, StoredEvent } from '@flotilla/sdk';
import { ErrorBoundary, ErrorMessage } from '../../app/ErrorMessage.tsx';
import { Link } from '../../app/router.ts';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';
import { useLive } from '../../app/use-live.ts';
import { useSchemas } from '../../app/use-schemas.ts';
import { CommandPanel } from './CommandPanel.tsx';
import { EStop } from './EStop.tsx';
import { Facts, Teleoperation } from './Facts.tsx';
import { ImuPanel } from './ImuPanel.tsx';
import { Jobs } from './Jobs.tsx';
import { LatestValues } from './LatestValues.tsx';
import { LogTail } from './LogTail.tsx';
import { PosePanel } from './PosePanel.tsx';
import { ServoPanel, servosOf } from './ServoPanel.tsx';
import { TelemetryCharts } from './TelemetryCharts.tsx';
import { LIVE_WINDOW_MS, TelemetryStore, type TelemetryMessage } from './telemetry-store.ts';
import { Timeline } from './Timeline.tsx';

const KEEP_LOG_LINES = 500;
const KEEP_EVENTS = 200;

function Panel({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      <ErrorBoundary label={title}>{children}</ErrorBoundary>
    </section>
  );
}

/** One robot: what it is, how it is doing (live), what it did, and the controls to act on it. */
export default function DevicePage({ params }: { params: string[] }) {
  const id = params[0] as string;
  const { client, can, me } = useSession();
  const schemas = useSchemas();
  const [device, , updateDevice] = useAsync((signal) => client.getDevice(id, { signal }), [client, id]);
  const [commands, reloadCommands] = useAsync((signal) => client.listCommands(id, 20, { signal }), [client, id]);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const store = useMemo(() => new TelemetryStore(), [id]);
  const version = useSyncExternalStore(store.subscribe, store.getVersion);

  const base = `flotilla.${id}`;
  useLive([`${base}.status`], (m) => {
    const data = m.data as Device & { decommissioned?: boolean };
    if (!data.decommissioned) updateDevice(() => data);
  });
  useLive([`${base}.telemetry`], (m) => store.push(m.data as TelemetryMessage));
  useLive([`${base}.event.>`], (m) => {
    const event = m.data as StoredEvent;
    setEvents((list) => (list.some((e) => e.id === event.id) ? list : [event, ...list].slice(0, KEEP_EVENTS)));
    if (event.type.startsWith('Command') || event.type === 'JobProgress') reloadCommands();
  });
  useLive([`${base}.log`], (m) => setLogs((list) => [...list, m.data as LogLine].slice(-KEEP_LOG_LINES)));

  // History under the live updates (subscribed above, so nothing falls between).
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const load = async (): Promise<void> => {
      const [latest, page, logPage] = await Promise.all([
        client.latestTelemetry(id, { signal }),
        client.listEvents({ device: id, order: 'desc', limit: 50 }, { signal }),
        client.deviceLogs(id, { limit: 100 }, { signal }),
      ]);
      store.seedLatest(latest.metrics);
      setEvents((live) => {
        const known = new Set(live.map((e) => e.id));
        return [...live, ...page.items.filter((e) => !known.has(e.id))].slice(0, KEEP_EVENTS);
      });
      setLogs((live) => {
        const known = new Set(live.map((l) => l.id));
        return [...logPage.items.reverse().filter((l) => !known.has(l.id)), ...live];
      });
      const from = Date.now() - LIVE_WINDOW_MS;
      const series = await Promise.all(
        Object.keys(latest.metrics).map((metric) => client.telemetry(id, { metric, from, limit: 2000 }, { signal })),
      );
      store.seedRows(series);
    };
    load().catch((err: unknown) => {
      if (!signal.aborted) setLoadError(err);
    });
    return () => {
      controller.abort();
      store.close();
    };
  }, [client, id, store]);

  if (device.status === 'error') {
    return (
      <div>
        <p>
          <Link to="/">← Fleet</Link>
        </p>
        <ErrorMessage error={device.error} what={`Cannot load ${id}`} />
      </div>
    );
  }
  const d = device.data;
  if (!d) return <p className="muted">Loading {id}…</p>;

  void version;
  const latest = store.latest;
  const estop = latest.get('estop');
  const pose = store.samples.get('pose')?.data as { x: number; y: number; theta: number } | undefined;
  const poseFromMetrics =
    latest.has('pose.x') && latest.has('pose.y')
      ? {
          x: latest.get('pose.x')?.value ?? 0,
          y: latest.get('pose.y')?.value ?? 0,
          theta: latest.get('pose.theta')?.value ?? 0,
        }
      : undefined;
  const hasImu = latest.has('imu.roll') && latest.has('imu.pitch');
  const servos = servosOf(store.samples.get('servos')?.data);
  const declared =
    schemas.status === 'ok' ? d.capabilities.map((c) => schemas.data.get(c.name)).filter((c) => c !== undefined) : [];
  const commander = can('commands:send');

  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: '1rem' }}>
      <div className="spread">
        <div>
          <p style={{ margin: 0 }}>
            <Link to="/">← Fleet</Link>
          </p>
          <h1 style={{ marginBottom: 0 }}>
            {d.name}{' '}
            {d.name !== d.id && (
              <span className="muted mono" style={{ fontSize: '0.9rem' }}>
                {d.id}
              </span>
            )}
          </h1>
          <span className={d.status.online ? 'on' : 'off'} role="status" aria-label="Connection">
            {d.status.online ? '● online' : '○ offline'}
          </span>{' '}
          {d.teleoperation.active && <span className="badge warning">teleoperated</span>}
        </div>
        {commander && <EStop device={d} engaged={estop === undefined ? undefined : estop.value === 1} />}
      </div>
      {loadError !== undefined && <ErrorMessage error={loadError} what="Some of the device's history did not load" />}
      <div className="grid">
        <Panel title="Facts">
          <Facts device={d} />
          <Teleoperation device={d} />
        </Panel>
        <Panel title="Latest values">
          <LatestValues latest={latest} capabilities={declared} />
        </Panel>
      </div>
      <ErrorBoundary label="Telemetry charts">
        <TelemetryCharts device={d.id} store={store} />
      </ErrorBoundary>
      {(pose ?? poseFromMetrics) || hasImu || servos.length > 0 ? (
        <div className="grid">
          {(pose ?? poseFromMetrics) && (
            <Panel title="Pose">
              <PosePanel
                rows={store.rows}
                pose={(pose ?? poseFromMetrics) as { x: number; y: number; theta: number }}
              />
            </Panel>
          )}
          {hasImu && (
            <Panel title="IMU">
              <ImuPanel
                roll={latest.get('imu.roll')?.value ?? 0}
                pitch={latest.get('imu.pitch')?.value ?? 0}
                yaw={latest.get('imu.yaw')?.value ?? 0}
              />
            </Panel>
          )}
          {servos.length > 0 && (
            <Panel title="Servos">
              <ServoPanel servos={servos} />
            </Panel>
          )}
        </div>
      ) : null}
      <div className="grid">
        {commander ? (
          <Panel title="Commands">
            <CommandPanel device={d} />
          </Panel>
        ) : (
          <Panel title="Commands">
            <p className="muted">Your role ({me.role}) can watch this robot but not command it.</p>
          </Panel>
        )}
        <Panel title="Jobs">
          <Jobs commands={commands} />
        </Panel>
      </div>
      <div className="grid">
        <Panel title="Events">
          <Timeline events={events} />
        </Panel>
        <Panel title="Log">
          <LogTail lines={logs} />
        </Panel>
      </div>
    </div>
  );
}
