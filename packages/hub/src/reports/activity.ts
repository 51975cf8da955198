import type { CommandActivity } from '../storage/commands.js';
import type { ActivityStats, DeviceActivity } from './schema.js';

/**
 * Commands and telemetry volume of a report: how many commands were issued in the range and
 * how they ended, and the busiest devices by commands and by telemetry points.
 */

/** Devices in each busiest list at most. */
export const BUSIEST = 5;

export function activityStats(
  devices: readonly string[],
  commands: readonly CommandActivity[],
  points: ReadonlyMap<string, number>,
): ActivityStats {
  const wanted = new Set(devices);
  const totals = { issued: 0, succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, open: 0 };
  const perDevice = new Map<string, number>();
  for (const row of commands) {
    if (!wanted.has(row.deviceId)) continue;
    totals.issued += row.count;
    perDevice.set(row.deviceId, (perDevice.get(row.deviceId) ?? 0) + row.count);
    switch (row.status) {
      case 'succeeded':
        totals.succeeded += row.count;
        break;
      case 'failed':
        totals.failed += row.count;
        break;
      case 'timed_out':
        totals.timedOut += row.count;
        break;
      case 'cancelled':
        totals.cancelled += row.count;
        break;
      default:
        totals.open += row.count;
    }
  }
  // Cancelled commands were stopped on purpose: neither a success nor a failure of the device.
  const ended = totals.succeeded + totals.failed + totals.timedOut;
  const rows: DeviceActivity[] = devices.map((device) => ({
    device,
    commands: perDevice.get(device) ?? 0,
    telemetryPoints: points.get(device) ?? 0,
  }));
  const top = (key: 'commands' | 'telemetryPoints'): DeviceActivity[] =>
    rows
      .filter((r) => r[key] > 0)
      .sort((a, b) => b[key] - a[key] || (a.device < b.device ? -1 : 1))
      .slice(0, BUSIEST);
  return {
    commands: { ...totals, successRate: ended === 0 ? null : totals.succeeded / ended },
    telemetryPoints: rows.reduce((n, r) => n + r.telemetryPoints, 0),
    byCommands: top('commands'),
    byTelemetry: top('telemetryPoints'),
  };
}
