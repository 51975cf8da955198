import { DeviceEventTypes } from '@flotilla/protocol';
import type { Storage } from '../storage/types.js';
import type { DeviceUptime, UptimeStats } from './schema.js';

/**
 * Uptime from the presence events of the log (DeviceConnected, DeviceDisconnected), clipped to
 * the report's range: a device's state at `from` is that of its last presence event before it,
 * and every change inside the range moves it. A device registered inside the range is measured
 * from its registration; one never online in the range counts with 0 %, not as missing.
 */

export interface ReportDevice {
  id: string;
  name: string;
  registeredAt: number;
}

export interface PresenceChange {
  device: string;
  ts: number;
  online: boolean;
}

const PRESENCE_TYPES = [DeviceEventTypes.Connected, DeviceEventTypes.Disconnected];
/** Events per read while paging through the range. */
const PAGE = 1000;

/** Each device's state at `from`, and the presence changes in [from, to) in log order. */
export async function loadPresence(
  storage: Pick<Storage, 'readEvents'>,
  devices: readonly ReportDevice[],
  from: number,
  to: number,
): Promise<{ initial: Map<string, boolean>; changes: PresenceChange[] }> {
  const initial = new Map<string, boolean>();
  for (const device of devices) {
    const [last] = await storage.readEvents({
      aggregateId: device.id,
      types: PRESENCE_TYPES,
      until: from,
      order: 'desc',
      limit: 1,
    });
    initial.set(device.id, last?.type === DeviceEventTypes.Connected);
  }
  const wanted = new Set(devices.map((d) => d.id));
  const changes: PresenceChange[] = [];
  let cursor: number | undefined;
  for (;;) {
    const page = await storage.readEvents({
      types: PRESENCE_TYPES,
      since: from,
      until: to,
      limit: PAGE,
      order: 'asc',
      ...(cursor !== undefined && { cursor }),
    });
    for (const event of page) {
      if (wanted.has(event.aggregateId)) {
        changes.push({ device: event.aggregateId, ts: event.ts, online: event.type === DeviceEventTypes.Connected });
      }
    }
    if (page.length < PAGE) break;
    cursor = (page[page.length - 1] as { position: number }).position;
  }
  return { initial, changes };
}

/** Online time of each device and of the fleet over [from, to). */
export function computeUptime(input: {
  from: number;
  to: number;
  devices: readonly ReportDevice[];
  initial: ReadonlyMap<string, boolean>;
  changes: readonly PresenceChange[];
  offlineAbove: number;
}): UptimeStats {
  const { from, to } = input;
  const byDevice = new Map<string, PresenceChange[]>();
  for (const change of input.changes) {
    const list = byDevice.get(change.device);
    if (list) list.push(change);
    else byDevice.set(change.device, [change]);
  }
  const devices: DeviceUptime[] = [];
  for (const device of input.devices) {
    const start = Math.max(from, device.registeredAt);
    if (start >= to) continue;
    // Log order is commit order; a stable sort by time keeps it among equal timestamps.
    const changes = [...(byDevice.get(device.id) ?? [])].sort((a, b) => a.ts - b.ts);
    let online = input.initial.get(device.id) ?? false;
    let since = start;
    let onlineMs = 0;
    let connects = 0;
    for (const change of changes) {
      const at = Math.min(Math.max(change.ts, start), to);
      if (online) onlineMs += at - since;
      if (change.online) connects++;
      online = change.online;
      since = at;
    }
    if (online) onlineMs += to - since;
    const measuredMs = to - start;
    devices.push({
      device: device.id,
      name: device.name,
      onlineMs,
      measuredMs,
      fraction: onlineMs / measuredMs,
      connects,
    });
  }
  devices.sort((a, b) => (a.fraction ?? 0) - (b.fraction ?? 0) || (a.device < b.device ? -1 : 1));
  const onlineMs = devices.reduce((sum, d) => sum + d.onlineMs, 0);
  const measuredMs = devices.reduce((sum, d) => sum + d.measuredMs, 0);
  return {
    fraction: measuredMs === 0 ? null : onlineMs / measuredMs,
    onlineMs,
    measuredMs,
    devices,
    offlineWholeRange: devices.filter((d) => d.onlineMs === 0).map((d) => d.device),
    overThreshold: devices.filter((d) => 1 - (d.fraction ?? 0) > input.offlineAbove).map((d) => d.device),
  };
}
