import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** Names of the metrics the agent reports about its host; the hub projects them into `resources`. */
export const SystemMetricNames = {
  cpu: 'system.cpu',
  memory: 'system.memory',
  disk: 'system.disk',
  temperature: 'system.temperature',
  load: 'system.load',
  uptime: 'system.uptime',
} as const;

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Sums every core's times, so the percentage is of the whole machine (0..100). */
export function cpuTimes(cpus: readonly os.CpuInfo[]): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** CPU use between two readings, or undefined if no time passed (two reads in one tick). */
export function cpuPercent(prev: CpuTimes, next: CpuTimes): number | undefined {
  const total = next.total - prev.total;
  if (total <= 0) return undefined;
  return clampPercent(((next.busy - prev.busy) / total) * 100);
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, Math.round(v * 10) / 10));
}

/** Used space the way df(1) counts it: blocks reserved for root are not "available". */
export function diskPercent(stats: { blocks: number; bfree: number; bavail: number }): number | undefined {
  const used = stats.blocks - stats.bfree;
  const usable = used + stats.bavail;
  return usable > 0 ? clampPercent((used / usable) * 100) : undefined;
}

const THERMAL_DIR = '/sys/class/thermal';

function thermalZones(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.startsWith('thermal_zone'))
      .map((name) => join(dir, name, 'temp'));
  } catch {
    return []; // no thermal sysfs (containers, macOS): the metric is simply absent
  }
}

/**
 * Reads the host's CPU, memory, disk, temperature, load and uptime. Costs a handful of
 * syscalls per call, which at one call every few seconds stays far below 1% of a core.
 * CPU is a delta between calls, so the first call only takes the baseline.
 */
export class SystemMetricsSampler {
  private prevCpu: CpuTimes;
  private readonly zones: string[];

  constructor(private readonly options: { diskPath?: string; thermalDir?: string } = {}) {
    this.prevCpu = cpuTimes(os.cpus());
    this.zones = thermalZones(options.thermalDir ?? THERMAL_DIR);
  }

  sample(): Record<string, number> {
    const out: Record<string, number> = {};
    const cpuNow = cpuTimes(os.cpus());
    const cpu = cpuPercent(this.prevCpu, cpuNow);
    this.prevCpu = cpuNow;
    if (cpu !== undefined) out[SystemMetricNames.cpu] = cpu;

    const total = os.totalmem();
    if (total > 0) out[SystemMetricNames.memory] = clampPercent(((total - os.freemem()) / total) * 100);

    try {
      const disk = diskPercent(statfsSync(this.options.diskPath ?? '/'));
      if (disk !== undefined) out[SystemMetricNames.disk] = disk;
    } catch {
      // an unreadable filesystem leaves the metric out rather than failing the sample
    }

    const temperature = this.temperature();
    if (temperature !== undefined) out[SystemMetricNames.temperature] = temperature;

    out[SystemMetricNames.load] = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
    out[SystemMetricNames.uptime] = Math.round(os.uptime());
    return out;
  }

  /** The hottest zone in °C (the one that throttles first), from millidegrees in sysfs. */
  private temperature(): number | undefined {
    let max: number | undefined;
    for (const path of this.zones) {
      try {
        const milli = Number.parseInt(readFileSync(path, 'utf8'), 10);
        // some zones report 0 or negative sentinels when their sensor is off
        if (Number.isFinite(milli) && milli > 0 && (max === undefined || milli > max)) max = milli;
      } catch {
        // zones can disappear (hot-unplugged devices); the others still count
      }
    }
    return max === undefined ? undefined : Math.round(max / 100) / 10;
  }
}
