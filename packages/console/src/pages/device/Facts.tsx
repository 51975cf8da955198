import type { Device } from '@flotilla/sdk';
import { ago, dateTime, num } from '../../app/format.ts';

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '—' : `${Math.round(bytes / 2 ** 20).toLocaleString()} MiB`;
}

/** What the device is and how it is connected, as the registry knows it. */
export function Facts({ device }: { device: Device }) {
  const { hardware, network, software, status, resources } = device;
  const rows: Array<[string, string]> = [
    ['Type', device.type],
    ['Model', device.model ?? hardware.model ?? '—'],
    ['Serial', hardware.serial ?? '—'],
    [
      'Hardware',
      [
        hardware.revision && `rev ${hardware.revision}`,
        hardware.arch,
        hardware.cpus && `${hardware.cpus} CPUs`,
        mb(hardware.memoryBytes),
      ]
        .filter(Boolean)
        .join(' · '),
    ],
    [
      'Software',
      [software.os, software.osVersion, software.agentVersion && `agent ${software.agentVersion}`]
        .filter(Boolean)
        .join(' · ') || '—',
    ],
    ['Network', [network.hostname, ...(network.ips ?? [])].filter(Boolean).join(' · ') || '—'],
    [
      'Connected',
      status.online
        ? `${ago(status.connectedAt)} over ${status.transport ?? '?'}`
        : `offline, last seen ${ago(status.lastSeen)}`,
    ],
    ['Uptime', status.uptime === null ? '—' : `${num(status.uptime / 3600, 1)} h`],
    [
      'Resources',
      `cpu ${num(resources.cpu, 0)}% · memory ${num(resources.memory, 0)}% · ${num(resources.temperature, 1)} °C`,
    ],
    ['Registered', dateTime(device.registeredAt)],
    [
      'Labels',
      Object.entries(device.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '—',
    ],
    ['Capabilities', device.capabilities.map((c) => `${c.name}${c.version ? ` ${c.version}` : ''}`).join(', ') || '—'],
  ];
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Who drives the robot now, as its agent detects it (docs/teleoperation.md). */
export function Teleoperation({ device }: { device: Device }) {
  const t = device.teleoperation;
  if (!t.active)
    return (
      <p className="muted" aria-label="Teleoperation status">
        Not teleoperated.
      </p>
    );
  return (
    <p aria-label="Teleoperation status">
      <b className="warn">Teleoperated</b> by {t.operator ?? 'an unknown operator'} since {dateTime(t.since)}
      {t.streams.length > 0 && ` · streams ${t.streams.join(', ')}`}
    </p>
  );
}
