import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { Alert, Device } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSession } from '../../app/session.tsx';
import { useLive } from '../../app/use-live.ts';
import { ALERT_SUBJECTS, alertOf } from '../../live/alert-events.ts';
import { DeviceTable } from './DeviceTable.tsx';
import { deviceMatcher, EMPTY_FILTER, type FleetFilter, type StatusFilter } from './filter.ts';
import { FleetHealth } from './FleetHealth.tsx';
import { FleetStore } from './fleet-store.ts';

async function loadFleet(store: FleetStore, client: ReturnType<typeof useSession>['client'], signal: AbortSignal) {
  const devices: Device[] = [];
  for await (const device of client.iterateDevices({ limit: 1000 }, { signal })) devices.push(device);
  const alerts: Alert[] = [];
  for await (const alert of client.alerts.iterate({ status: ['firing', 'acknowledged'], limit: 1000 }, { signal }))
    alerts.push(alert);
  store.reset(devices, alerts);
}

/** The fleet at a glance: counts, health over time, and every device, filterable, live. */
export default function FleetPage() {
  const { client, live, can } = useSession();
  const store = useMemo(() => new FleetStore(), []);
  const version = useSyncExternalStore(store.subscribe, store.getVersion);
  const [error, setError] = useState<unknown>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [filter, setFilter] = useState<FleetFilter>(EMPTY_FILTER);
  const tableBox = useRef<HTMLDivElement>(null);
  const [tableHeight, setTableHeight] = useState(400);

  // Subscribed before listing, so nothing that changes while the list loads is missed.
  useLive(['flotilla.*.status'], (m) => store.status(m.data));
  useLive(can('alerts:read') ? ALERT_SUBJECTS : null, (m) => {
    const alert = alertOf(m);
    if (alert) store.alert(alert);
  });

  useEffect(() => {
    const controller = new AbortController();
    const load = (): void => {
      loadFleet(store, client, controller.signal).then(
        () => {
          setLoaded(true);
          setError(undefined);
        },
        (err: unknown) => {
          if (!controller.signal.aborted) setError(err);
        },
      );
    };
    load();
    // After a reconnect, or when the hub had to drop messages to us, the view may have holes.
    let opened = false;
    const off = live.on((event) => {
      if (event.type === 'open') {
        if (opened) load();
        opened = true;
      } else if (event.type === 'error' && event.code === 'slow_consumer') load();
    });
    return () => {
      off();
      controller.abort();
      store.close();
    };
  }, [client, live, store]);

  useEffect(() => {
    const fit = (): void => {
      const top = tableBox.current?.getBoundingClientRect().top ?? 300;
      setTableHeight(Math.max(280, window.innerHeight - top - 60));
    };
    fit();
    addEventListener('resize', fit);
    return () => removeEventListener('resize', fit);
  }, [loaded]);

  const view = useMemo(() => {
    const openAlerts = (id: string): number => store.openAlerts(id);
    const matches = deviceMatcher(filter, openAlerts);
    const shown: Device[] = [];
    const types = new Set<string>();
    let online = 0;
    let alerting = 0;
    let firing = 0;
    for (const id of store.ids) {
      const device = store.devices.get(id);
      if (!device) continue;
      types.add(device.type);
      if (device.status.online) online++;
      const open = store.alerts.get(id);
      if (open && open.size > 0) {
        alerting++;
        for (const alert of open.values()) if (alert.status === 'firing') firing++;
      }
      if (matches(device)) shown.push(device);
    }
    return { shown, types: [...types].sort(), online, total: store.ids.length, alerting, firing, openAlerts };
    // `version` is how the store says it changed.
  }, [store, filter, version]);

  const set = (change: Partial<FleetFilter>): void => setFilter((f) => ({ ...f, ...change }));

  return (
    <div>
      <h1>Fleet</h1>
      {error !== undefined && <ErrorMessage error={error} what="Cannot load the fleet" />}
      <section className="stats" aria-label="Fleet counts">
        <div className="stat">
          <b data-testid="count-total">{view.total}</b>devices
        </div>
        <div className="stat">
          <b className="on" data-testid="count-online">
            {view.online}
          </b>
          online
        </div>
        <div className="stat">
          <b className="off" data-testid="count-offline">
            {view.total - view.online}
          </b>
          offline
        </div>
        <div className="stat">
          <b className={view.alerting > 0 ? 'bad' : ''} data-testid="count-alerting">
            {view.alerting}
          </b>
          alerting ({view.firing} firing)
        </div>
      </section>
      <FleetHealth online={view.online} total={view.total} alerting={view.alerting} />
      <section aria-label="Devices" style={{ marginTop: '1rem' }}>
        <div className="row" style={{ marginBottom: '0.5rem' }} role="search">
          <label className="field">
            Search
            <input
              type="search"
              placeholder="id, name, host, serial"
              value={filter.text}
              onChange={(e) => set({ text: e.target.value })}
            />
          </label>
          <label className="field">
            Type
            <select value={filter.type} onChange={(e) => set({ type: e.target.value })}>
              <option value="">all types</option>
              {view.types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Status
            <select value={filter.status} onChange={(e) => set({ status: e.target.value as StatusFilter })}>
              <option value="all">all</option>
              <option value="online">online</option>
              <option value="offline">offline</option>
              <option value="alerting">alerting</option>
            </select>
          </label>
          <label className="field">
            Labels
            <input
              placeholder="site=lab,zone=a"
              value={filter.label}
              onChange={(e) => set({ label: e.target.value })}
            />
          </label>
          <span className="muted" role="status" aria-live="polite">
            {loaded ? `${view.shown.length} of ${view.total} shown` : 'loading…'}
          </span>
        </div>
        <div ref={tableBox}>
          <DeviceTable devices={view.shown} openAlerts={view.openAlerts} height={tableHeight} />
        </div>
      </section>
    </div>
  );
}
