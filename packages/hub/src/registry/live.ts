import type { Device, Resources } from '@flotilla/protocol';

/**
 * `system.*` telemetry metrics that feed the registry's live view (docs/protocol.md). Written in
 * place on the current device object: this runs for every telemetry frame of every device, so it
 * allocates nothing and writes no event (registry.ts explains where these fields are persisted).
 */
const RESOURCE_METRICS: readonly (readonly [string, keyof Resources])[] = [
  ['system.cpu', 'cpu'],
  ['system.memory', 'memory'],
  ['system.disk', 'disk'],
  ['system.temperature', 'temperature'],
  ['system.load', 'load'],
];
const UPTIME_METRIC = 'system.uptime';

export function applyLiveMetrics(device: Device, metrics: Readonly<Record<string, number>>): void {
  for (const [name, field] of RESOURCE_METRICS) {
    const value = metrics[name];
    if (value !== undefined) device.resources[field] = value;
  }
  const uptime = metrics[UPTIME_METRIC];
  if (uptime !== undefined) device.status.uptime = uptime;
}
