import { matchesSelector, parseSelector } from '@flotilla/protocol';
import type { Registry } from '../registry/registry.js';
import type { Storage } from '../storage/types.js';
import { activityStats } from './activity.js';
import { alertStats, unavailableAlerts, type AlertHistorySource } from './alerts.js';
import type { ReportRequest, ReportStatistics } from './schema.js';
import { metricStats, telemetryWindow } from './telemetry-stats.js';
import { computeUptime, loadPresence, type ReportDevice } from './uptime.js';

/**
 * Everything a report states, gathered from the hub's own records: presence events (uptime),
 * the alert history, the telemetry rollups (battery, temperature, volume) and the command
 * records. The statistics are the report: the summary, the HTML and the PDF are written from
 * them alone.
 */

export interface StatisticsSources {
  storage: Pick<Storage, 'readEvents' | 'commands' | 'telemetry'>;
  registry: Pick<Registry, 'list' | 'get'>;
  /** Undefined: this hub keeps no alert history. */
  alerts: AlertHistorySource | undefined;
  /** Rolls up the minutes written since the last pass, so the end of the range is in the rollups. */
  refreshRollups?: () => Promise<unknown>;
  /** How long 1 min rollups are kept: an older range is read from the 1 h rollups. */
  rollup1mRetentionMs?: number;
}

/** Thrown when the devices of a report cannot be found any more; the report fails with its message. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
}

/** The devices a request covers that existed before `to`, as the registry knows them now. */
export function reportDevices(
  registry: Pick<Registry, 'list' | 'get'>,
  request: Pick<ReportRequest, 'scope' | 'device' | 'selector'>,
  to: number,
): ReportDevice[] {
  if (request.scope === 'device') {
    const device = registry.get(request.device ?? '');
    if (!device) throw new ReportInputError(`device ${request.device ?? ''} is not in the registry any more`);
    return device.registeredAt < to ? [{ id: device.id, name: device.name, registeredAt: device.registeredAt }] : [];
  }
  const parsed = parseSelector(request.selector ?? '');
  if (!parsed.ok) throw new ReportInputError(`selector: ${parsed.message}`);
  return registry
    .list()
    .filter((d) => d.registeredAt < to && matchesSelector(parsed.requirements, d.labels))
    .map((d) => ({ id: d.id, name: d.name, registeredAt: d.registeredAt }));
}

/**
 * `checkpoint` is called between steps; it throws to stop a generation that timed out or whose
 * hub is closing.
 */
export async function gatherStatistics(
  sources: StatisticsSources,
  input: { request: ReportRequest; from: number; to: number; generatedAt: number },
  checkpoint: () => void = () => {},
): Promise<ReportStatistics> {
  const { request, from, to } = input;
  const { storage } = sources;
  const devices = reportDevices(sources.registry, request, to);
  const ids = devices.map((d) => d.id);

  const presence = await loadPresence(storage, devices, from, to);
  checkpoint();
  const uptime = computeUptime({ from, to, devices, ...presence, offlineAbove: request.thresholds.offlineAbove });

  const alerts = sources.alerts
    ? alertStats(
        await sources.alerts.between(from, to),
        { from, to },
        request.scope === 'device' || request.selector ? new Set(ids) : null,
      )
    : unavailableAlerts('this hub keeps no alert history');
  checkpoint();

  await sources.refreshRollups?.();
  checkpoint();
  const window = telemetryWindow(from, to, input.generatedAt - (sources.rollup1mRetentionMs ?? Infinity));
  const battery = await metricStats(
    storage.telemetry,
    ids,
    request.metrics.battery,
    window,
    request.thresholds.batteryBelow,
    'below',
  );
  checkpoint();
  const temperature = await metricStats(
    storage.telemetry,
    ids,
    request.metrics.temperature,
    window,
    request.thresholds.temperatureAbove,
    'above',
  );
  checkpoint();
  const points =
    ids.length === 0
      ? new Map<string, number>()
      : await storage.telemetry.volume({ devices: ids, from: window.from, to: window.to, source: window.source });
  const activity = activityStats(ids, await storage.commands.activity(from, to), points);

  return {
    version: 1,
    scope: request.scope,
    device: request.device,
    selector: request.selector,
    from,
    to,
    generatedAt: input.generatedAt,
    thresholds: request.thresholds,
    devices: devices.length,
    uptime,
    alerts,
    battery,
    temperature,
    activity,
  };
}
