import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemMetricNames, SystemMetricsSampler, cpuPercent, cpuTimes, diskPercent } from './system-metrics.js';

const times = (user: number, idle: number) => ({
  model: 'x',
  speed: 0,
  times: { user, nice: 0, sys: 0, idle, irq: 0 },
});

test('CPU % is busy time over total time between two readings, over all cores', () => {
  const a = cpuTimes([times(100, 900), times(100, 900)]);
  const b = cpuTimes([times(400, 1600), times(100, 1900)]); // 300 busy of 2000 elapsed
  assert.equal(cpuPercent(a, b), 15);
  assert.equal(cpuPercent(a, a), undefined, 'no time elapsed, no reading');
});

test('disk % counts root-reserved blocks as unavailable, as df does', () => {
  // 1000 blocks, 300 free of which 250 available to users: used 700 of 950 usable
  assert.equal(diskPercent({ blocks: 1000, bfree: 300, bavail: 250 }), 73.7);
  assert.equal(diskPercent({ blocks: 0, bfree: 0, bavail: 0 }), undefined);
});

test('temperature is the hottest thermal zone in °C; broken zones are skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thermal-'));
  try {
    for (const [zone, milli] of [
      ['thermal_zone0', '45000\n'],
      ['thermal_zone1', '52500\n'],
      ['thermal_zone2', '-1\n'],
      ['cooling_device0', '99000'],
    ]) {
      mkdirSync(join(dir, zone!));
      writeFileSync(join(dir, zone!, 'temp'), milli!);
    }
    mkdirSync(join(dir, 'thermal_zone3')); // a zone whose temp file vanished
    const s = new SystemMetricsSampler({ thermalDir: dir });
    assert.equal(s.sample()[SystemMetricNames.temperature], 52.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sample of this host has every metric in range; no thermal zones, no temperature', () => {
  const s = new SystemMetricsSampler({ thermalDir: '/nonexistent' });
  const m = s.sample();
  for (const name of [SystemMetricNames.memory, SystemMetricNames.disk]) {
    assert.ok(m[name]! >= 0 && m[name]! <= 100, `${name}=${m[name]}`);
  }
  assert.ok(m[SystemMetricNames.load]! >= 0);
  assert.ok(m[SystemMetricNames.uptime]! > 0);
  assert.equal(m[SystemMetricNames.temperature], undefined);
  const cpu = m[SystemMetricNames.cpu];
  assert.ok(cpu === undefined || (cpu >= 0 && cpu <= 100));
});
