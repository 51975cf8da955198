import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, percent, utcRange } from './format.js';
import { deterministicSummary } from './summary.js';
import { sampleStatistics } from './testing.js';
import { unavailableAlerts } from './alerts.js';

test('the deterministic summary states the statistics, the same every time', () => {
  const stats = sampleStatistics();
  const text = deterministicSummary(stats);
  assert.equal(
    text,
    [
      'Fleet report (selector site=lab) over 2024-05-01 12:00 – 2024-05-02 12:00 UTC: 4 devices.',
      'Fleet uptime was 61.5%; 2 of 4 devices were offline more than 10% of the time (r3 100%, r2 50%);',
      '1 was offline the whole range (r3).',
      '5 alerts fired (3 warning, 2 critical), 1 still open at the end; the longest, battery-low on r3, lasted 2 h 5 min.',
      'Battery (battery.soc) averaged 62.96, lowest 8 (r3); 1 device went below 20 (r3).',
      'Temperature (system.temperature) averaged 51.11, highest 78.2 (r1); 1 device went above 70 (r1).',
      '230 commands were issued; 96.1% of those that finished succeeded (9 failed or timed out).',
      'Busiest: r1 (140 commands, 8,000 telemetry points).',
    ].join(' '),
  );
  assert.equal(deterministicSummary(stats), text);
});

test('what is missing is said, not shown as zero', () => {
  const stats = sampleStatistics({
    alerts: unavailableAlerts('this hub keeps no alert history'),
    activity: {
      commands: { issued: 0, succeeded: 0, failed: 0, timedOut: 0, cancelled: 0, open: 0, successRate: null },
      telemetryPoints: 0,
      byCommands: [],
      byTelemetry: [],
    },
  });
  stats.battery = {
    ...stats.battery,
    points: 0,
    min: null,
    avg: null,
    max: null,
    devices: [],
    flagged: [],
    series: [],
  };
  const text = deterministicSummary(stats);
  assert.match(text, /Alert history is not available on this hub\./);
  assert.match(text, /No battery data \(metric battery\.soc\)\./);
  assert.match(text, /No commands were issued\./);
  assert.doesNotMatch(text, /Busiest/);
});

test('a device report speaks of the device; an empty fleet says there is nothing to report', () => {
  const stats = sampleStatistics({ scope: 'device', device: 'r2', selector: null, devices: 1 });
  stats.uptime = { ...stats.uptime, devices: stats.uptime.devices.filter((d) => d.device === 'r2') };
  assert.match(
    deterministicSummary(stats),
    /^Report for device r2 over .*\. r2 was online 50% of the time \(3 connections in the range\)\./,
  );
  const empty = sampleStatistics({ devices: 0 });
  assert.equal(
    deterministicSummary(empty),
    'Fleet report (selector site=lab) over 2024-05-01 12:00 – 2024-05-02 12:00 UTC: no device matched, so there is nothing to report.',
  );
});

test('formats: percentages never round to 0 or 100 falsely, durations keep two units', () => {
  assert.equal(percent(0.9996), '>99.9%');
  assert.equal(percent(0.0004), '<0.1%');
  assert.equal(percent(1), '100%');
  assert.equal(percent(null), 'n/a');
  assert.equal(duration(2 * 3_600_000 + 5 * 60_000 + 7000), '2 h 5 min');
  assert.equal(duration(2 * 86_400_000 + 30_000), '2 d');
  assert.equal(duration(400), '0 s');
  assert.equal(utcRange(Date.UTC(2024, 0, 1, 8), Date.UTC(2024, 0, 1, 9, 30)), '2024-01-01 08:00 – 09:30 UTC');
});
