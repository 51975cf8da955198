import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Device } from '@flotilla/sdk';
import { ago, num } from '../../app/format.ts';
import { devicePath, Link, navigate } from '../../app/router.ts';

/** Row height in px: fixed, so the rows in view are arithmetic and 10,000 devices render ~30 rows. */
export const ROW_HEIGHT = 36;
const OVERSCAN = 8;

interface Props {
  devices: readonly Device[];
  openAlerts: (id: string) => number;
  /** Height of the scrolling body in px. */
  height: number;
}

/**
 * The device table, virtualised: only the rows in view (plus a few) exist in the DOM. Rows are
 * reached with Tab through their id links; ↑/↓ move between rows, Enter opens one.
 */
export function DeviceTable({ devices, openAlerts, height }: Props) {
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(devices.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  // A filter that shrinks the list below the scroll position would show nothing: scroll back.
  useEffect(() => {
    const max = Math.max(0, devices.length * ROW_HEIGHT - height);
    if (body.current && body.current.scrollTop > max) body.current.scrollTop = max;
  }, [devices.length, height]);

  const onKey = (event: KeyboardEvent<HTMLDivElement>): void => {
    const row = (event.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!row || !body.current) return;
    const index = Number(row.dataset['index']);
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = Math.min(devices.length - 1, Math.max(0, index + step));
    const top = next * ROW_HEIGHT;
    if (top < body.current.scrollTop) body.current.scrollTop = top;
    else if (top + ROW_HEIGHT > body.current.scrollTop + height) body.current.scrollTop = top + ROW_HEIGHT - height;
    // The row exists after the scroll renders it.
    requestAnimationFrame(() => body.current?.querySelector<HTMLElement>(`[data-index="${next}"] a`)?.focus());
  };

  const rows = [];
  const now = Date.now();
  for (let i = first; i < last; i++) {
    const d = devices[i];
    if (!d) continue;
    const labels = Object.entries(d.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const alerts = openAlerts(d.id);
    rows.push(
      <div
        key={d.id}
        className="vtable-row"
        role="row"
        aria-rowindex={i + 2}
        data-index={i}
        style={{ top: i * ROW_HEIGHT }}
        // The whole row opens the device for a mouse; the id is the link for keyboards and readers.
        onClick={(event) => {
          if (!(event.target as HTMLElement).closest('a')) navigate(devicePath(d.id));
        }}
      >
        <span role="cell" className="mono">
          <Link to={devicePath(d.id)}>{d.id}</Link>
        </span>
        <span role="cell" className="col-name">
          {d.name}
        </span>
        <span role="cell">{d.type}</span>
        <span role="cell" className={d.status.online ? 'on' : 'off'}>
          {d.status.online ? '● online' : '○ offline'}
          {d.teleoperation.active ? ' · teleop' : ''}
        </span>
        <span role="cell">
          {alerts > 0 ? (
            <span className="badge critical">
              {alerts} alert{alerts > 1 ? 's' : ''}
            </span>
          ) : (
            <span className="muted">—</span>
          )}
        </span>
        <span role="cell" className="col-seen muted">
          {d.status.online ? `cpu ${num(d.resources.cpu, 0)}%` : ago(d.status.lastSeen, now)}
        </span>
        {/* Cut to the column's width: the whole set on hover, and on the device's page. */}
        <span role="cell" className="muted" title={labels}>
          {labels}
        </span>
      </div>,
    );
  }

  return (
    <div className="vtable" role="table" aria-label="Devices" aria-rowcount={devices.length + 1}>
      <div className="vtable-head" role="row" aria-rowindex={1}>
        <span role="columnheader">Id</span>
        <span role="columnheader" className="col-name">
          Name
        </span>
        <span role="columnheader">Type</span>
        <span role="columnheader">Status</span>
        <span role="columnheader">Alerts</span>
        <span role="columnheader" className="col-seen">
          Load / last seen
        </span>
        <span role="columnheader">Labels</span>
      </div>
      <div
        ref={body}
        className="vtable-body"
        role="rowgroup"
        style={{ height }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        onKeyDown={onKey}
      >
        <div style={{ height: devices.length * ROW_HEIGHT }} />
        {rows}
        {devices.length === 0 && (
          <p className="muted" style={{ padding: '0.75rem' }}>
            No device matches.
          </p>
        )}
      </div>
    </div>
  );
}
