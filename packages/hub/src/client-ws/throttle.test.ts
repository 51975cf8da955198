import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@flotilla/protocol';
import { Throttler, type AggregatedTelemetry } from './throttle.js';

function collect(): {
  out: Array<{ subject: string; data: unknown; at: number }>;
  emit: (s: string, d: unknown) => void;
  clock: ManualClock;
} {
  const clock = new ManualClock(0);
  const out: Array<{ subject: string; data: unknown; at: number }> = [];
  return { out, clock, emit: (subject, data) => out.push({ subject, data, at: clock.now() }) };
}

test('sample passes at most rate messages per second per subject and drops the rest', () => {
  const { out, emit, clock } = collect();
  const t = new Throttler({ rate: 2, strategy: 'sample' }, clock, emit);
  // 10 Hz input for one second on two subjects.
  for (let i = 0; i < 10; i++) {
    t.push('flotilla.a.telemetry', i);
    t.push('flotilla.b.telemetry', i);
    clock.advance(100);
  }
  const a = out.filter((m) => m.subject === 'flotilla.a.telemetry');
  const b = out.filter((m) => m.subject === 'flotilla.b.telemetry');
  assert.deepEqual(
    a.map((m) => m.data),
    [0, 5],
  );
  assert.deepEqual(
    b.map((m) => m.data),
    [0, 5],
  );
  // Nothing is held back: sampling never emits later.
  clock.advance(10_000);
  assert.equal(out.length, 4);
  assert.equal(clock.pending, 0);
});

test('latest passes the first message at once, then the newest one per interval', () => {
  const { out, emit, clock } = collect();
  const t = new Throttler({ rate: 1, strategy: 'latest' }, clock, emit);
  t.push('s', 'first');
  assert.deepEqual(out, [{ subject: 's', data: 'first', at: 0 }]);
  clock.advance(200);
  t.push('s', 'second');
  clock.advance(200);
  t.push('s', 'third');
  assert.equal(out.length, 1, 'held until the interval ends');
  clock.advance(600);
  assert.deepEqual(out[1], { subject: 's', data: 'third', at: 1000 });
  // Quiet subject: no more output, no timer left behind.
  clock.advance(5000);
  assert.equal(out.length, 2);
  assert.equal(clock.pending, 0);
  // After a quiet spell the next message goes out at once again.
  t.push('s', 'fourth');
  assert.deepEqual(out[2], { subject: 's', data: 'fourth', at: 6000 });
});

test('aggregate emits min/max/avg/last/count of telemetry metrics once per window', () => {
  const { out, emit, clock } = collect();
  const t = new Throttler({ rate: 2, strategy: 'aggregate' }, clock, emit);
  const values = [10, 30, 20, 40];
  for (const [i, v] of values.entries()) {
    t.push('flotilla.r1.telemetry', { ts: 1000 + i, metrics: { battery: v, cpu: v / 10 } });
    clock.advance(100);
  }
  assert.equal(out.length, 0, 'nothing before the window closes');
  clock.advance(100);
  assert.equal(out.length, 1);
  const agg = out[0]?.data as AggregatedTelemetry;
  assert.equal(out[0]?.at, 500);
  assert.deepEqual(agg.window, { from: 0, to: 500, count: 4 });
  assert.equal(agg.ts, 1003);
  assert.deepEqual(agg.metrics['battery'], { min: 10, max: 40, avg: 25, last: 40, count: 4 });
  assert.deepEqual(agg.metrics['cpu'], { min: 1, max: 4, avg: 2.5, last: 4, count: 4 });
  // A metric present in only some samples is summarised over those samples.
  t.push('flotilla.r1.telemetry', { ts: 2000, metrics: { battery: 5 } });
  t.push('flotilla.r1.telemetry', { ts: 2001, metrics: { battery: 7, temp: 50 } });
  clock.advance(500);
  const second = out[1]?.data as AggregatedTelemetry;
  assert.deepEqual(second.metrics['battery'], { min: 5, max: 7, avg: 6, last: 7, count: 2 });
  assert.deepEqual(second.metrics['temp'], { min: 50, max: 50, avg: 50, last: 50, count: 1 });
  assert.equal(clock.pending, 0);
});

test('aggregate handles data without metrics (status, events) as latest', () => {
  const { out, emit, clock } = collect();
  const t = new Throttler({ rate: 1, strategy: 'aggregate' }, clock, emit);
  t.push('flotilla.r1.status', { id: 'r1', online: true });
  t.push('flotilla.r1.status', { id: 'r1', online: false });
  assert.deepEqual(
    out.map((m) => m.data),
    [{ id: 'r1', online: true }],
  );
  clock.advance(1000);
  assert.deepEqual(
    out.map((m) => m.data),
    [
      { id: 'r1', online: true },
      { id: 'r1', online: false },
    ],
  );
});

test('close cancels pending timers and stops output', () => {
  const { out, emit, clock } = collect();
  const t = new Throttler({ rate: 1, strategy: 'latest' }, clock, emit);
  t.push('s', 1);
  t.push('s', 2);
  assert.equal(clock.pending, 1);
  t.close();
  assert.equal(clock.pending, 0);
  clock.advance(5000);
  t.push('s', 3);
  assert.deepEqual(
    out.map((m) => m.data),
    [1],
  );
});

test('state for idle subjects is forgotten, so wildcard subscriptions stay bounded', () => {
  const { emit, clock } = collect();
  const t = new Throttler({ rate: 10, strategy: 'sample' }, clock, emit);
  // Ten waves of 5,000 subjects never seen again (devices coming and going): without forgetting,
  // 50,000 states would pile up.
  for (let wave = 0; wave < 10; wave++) {
    for (let i = 0; i < 5000; i++) t.push(`flotilla.w${wave}-d${i}.telemetry`, i);
    clock.advance(1000);
  }
  assert.ok(t.trackedSubjects <= 15_000, `tracked ${t.trackedSubjects}`);
});
