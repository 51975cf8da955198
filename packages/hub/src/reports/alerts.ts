import type { AlertStats } from './schema.js';

/**
 * What a report needs from the alerts module: the alerts that were firing at some time in a
 * range. The alerts module provides it; a hub without alert history gives none, and the report
 * says so instead of showing zero alerts.
 */
export interface AlertRecord {
  id: string;
  rule: string;
  /** Null for an alert about no single device. */
  device: string | null;
  severity: string;
  firedAt: number;
  /** Null while still firing. */
  resolvedAt: number | null;
}

export interface AlertHistorySource {
  /** Alerts that fired before `to` and were not resolved before `from`. */
  between(from: number, to: number): Promise<AlertRecord[]>;
}

/** Devices listed in `byDevice` at most. */
const TOP_DEVICES = 10;

export function unavailableAlerts(note: string): AlertStats {
  return { available: false, note, total: 0, open: 0, bySeverity: {}, longest: null, byDevice: [] };
}

/**
 * Counts by severity, the longest (until resolved, or until `to` when still open then) and the
 * devices with most alerts, over the alerts of the report's devices (`devices` null: the fleet
 * with alerts about no single device too).
 */
export function alertStats(
  records: readonly AlertRecord[],
  range: { from: number; to: number },
  devices: ReadonlySet<string> | null,
): AlertStats {
  const mine = records.filter(
    (a) =>
      a.firedAt < range.to &&
      (a.resolvedAt === null || a.resolvedAt >= range.from) &&
      (devices === null || (a.device !== null && devices.has(a.device))),
  );
  const bySeverity: Record<string, number> = {};
  const byDevice = new Map<string, number>();
  let longest: AlertStats['longest'] = null;
  let open = 0;
  for (const alert of mine) {
    bySeverity[alert.severity] = (bySeverity[alert.severity] ?? 0) + 1;
    if (alert.device !== null) byDevice.set(alert.device, (byDevice.get(alert.device) ?? 0) + 1);
    const stillOpen = alert.resolvedAt === null || alert.resolvedAt >= range.to;
    if (stillOpen) open++;
    const durationMs = (stillOpen ? range.to : (alert.resolvedAt as number)) - alert.firedAt;
    if (!longest || durationMs > longest.durationMs) {
      const { id, rule, device, severity, firedAt, resolvedAt } = alert;
      longest = { id, rule, device, severity, firedAt, resolvedAt, durationMs };
    }
  }
  return {
    available: true,
    note: null,
    total: mine.length,
    open,
    bySeverity,
    longest,
    byDevice: [...byDevice]
      .map(([device, count]) => ({ device, count }))
      .sort((a, b) => b.count - a.count || (a.device < b.device ? -1 : 1))
      .slice(0, TOP_DEVICES),
  };
}
