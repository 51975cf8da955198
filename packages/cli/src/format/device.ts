import type { Device } from '@flotilla/sdk';
import type { Style } from './style.js';
import { renderTable } from './table.js';
import { formatBytes, formatTimestamp, formatUptime, relativeTime } from './time.js';

export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function status(d: Device, style: Style): string {
  return d.status.online ? style.green('online') : style.dim('offline');
}

/** Who teleoperates the device: the operator when known, `yes` when not, empty when nobody does. */
function teleoperator(d: Device, style: Style): string {
  if (!d.teleoperation.active) return '';
  return style.yellow(d.teleoperation.operator ?? 'yes');
}

/** `flotilla devices`: one line per device. */
export function renderDeviceTable(devices: readonly Device[], now: number, style: Style): string {
  const rows = devices.map((d) => [
    d.id,
    d.name,
    d.type,
    status(d, style),
    teleoperator(d, style),
    relativeTime(d.status.lastSeen, now),
    d.network.ips?.[0] ?? '',
    d.software.agentVersion ?? '',
    formatLabels(d.labels),
  ]);
  return renderTable(
    ['ID', 'NAME', 'TYPE', 'STATUS', 'TELEOP', 'LAST SEEN', 'ADDRESS', 'AGENT', 'LABELS'],
    rows,
    style,
  );
}

function joined(parts: readonly (string | undefined | null | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(' · ');
}

function percent(value: number | undefined): string | undefined {
  return value === undefined ? undefined : `${value.toFixed(0)}%`;
}

/** `flotilla device ID`: the facts of one device as a readable block. */
export function renderDeviceBlock(d: Device, now: number, style: Style): string {
  const s = d.status;
  const r = d.resources;
  const hw = d.hardware;
  const sw = d.software;
  const rows: [string, string][] = [
    [
      'status',
      joined([
        status(d, style),
        s.online && s.connectedAt !== null ? `connected ${relativeTime(s.connectedAt, now)}` : undefined,
        `last seen ${relativeTime(s.lastSeen, now)}`,
        s.transport ? `via ${s.transport}` : undefined,
        s.uptime !== null ? `up ${formatUptime(s.uptime)}` : undefined,
      ]),
    ],
    ['type', joined([d.type, d.model && d.model !== d.type ? d.model : undefined])],
    [
      'labels',
      Object.keys(d.labels).length
        ? Object.entries(d.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : '(none)',
    ],
    [
      'hardware',
      joined([
        hw.model,
        hw.serial && `serial ${hw.serial}`,
        hw.revision && `rev ${hw.revision}`,
        hw.arch,
        hw.cpus !== undefined ? `${hw.cpus} CPU${hw.cpus === 1 ? '' : 's'}` : undefined,
        hw.memoryBytes !== undefined ? formatBytes(hw.memoryBytes) : undefined,
      ]),
    ],
    ['network', joined([d.network.hostname, ...(d.network.ips ?? []), d.network.mac])],
    [
      'software',
      joined([
        sw.os && [sw.os, sw.osVersion].filter(Boolean).join(' '),
        sw.agentVersion && `agent ${sw.agentVersion}`,
        sw.packages?.length ? `${sw.packages.length} package${sw.packages.length === 1 ? '' : 's'}` : undefined,
      ]),
    ],
    ['capabilities', d.capabilities.map((c) => (c.version ? `${c.name} ${c.version}` : c.name)).join(', ')],
    [
      'resources',
      joined([
        r.cpu !== undefined ? `cpu ${percent(r.cpu)}` : undefined,
        r.memory !== undefined ? `memory ${percent(r.memory)}` : undefined,
        r.disk !== undefined ? `disk ${percent(r.disk)}` : undefined,
        r.temperature !== undefined ? `${r.temperature.toFixed(1)}°C` : undefined,
        r.load !== undefined ? `load ${r.load.toFixed(2)}` : undefined,
      ]),
    ],
    [
      'teleoperation',
      d.teleoperation.active
        ? joined([
            style.yellow('active'),
            d.teleoperation.operator ?? undefined,
            d.teleoperation.since !== null ? `since ${relativeTime(d.teleoperation.since, now)}` : undefined,
            d.teleoperation.indicators.length > 0 ? `(${d.teleoperation.indicators.join(', ')})` : undefined,
          ])
        : 'inactive',
    ],
    ['registered', `${formatTimestamp(d.registeredAt)} (${relativeTime(d.registeredAt, now)})`],
    ['updated', `${formatTimestamp(d.updatedAt)} (${relativeTime(d.updatedAt, now)})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const title = d.name && d.name !== d.id ? `${style.bold(d.id)}  ${d.name}` : style.bold(d.id);
  const body = rows.map(([k, v]) => `  ${style.dim(k.padEnd(width))}${v || style.dim('-')}`);
  const packages = sw.packages?.length
    ? ['', `  ${style.dim('packages')}`, ...sw.packages.map((p) => `    ${p.name} ${p.version}`)]
    : [];
  return [title, ...body, ...packages].join('\n') + '\n';
}
