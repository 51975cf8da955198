import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '@flotilla/protocol';
import { CommandRateIndicator } from './command-rate.js';
import { TeleoperationDetector, type TeleoperationSession } from './detector.js';
import type { IndicatorReading, TeleoperationIndicator } from './indicator.js';

const drive = { capability: 'hal.v1.motor.differential', command: 'drive' };

function detector(indicators: TeleoperationIndicator[], clock: ManualClock) {
  const events: Array<['start', TeleoperationSession] | ['stop', TeleoperationSession, number]> = [];
  const d = new TeleoperationDetector({
    indicators,
    clock,
    startAfterMs: 1_000,
    stopAfterMs: 5_000,
    pollIntervalMs: 500,
    onStart: (s) => events.push(['start', s]),
    onStop: (s, at) => events.push(['stop', s, at]),
  });
  d.start();
  /** Moves the clock in steps of `every` ms for `ms`, letting evaluations finish after each. */
  const run = async (ms: number, every = 100, tick?: () => void) => {
    for (let t = 0; t < ms; t += every) {
      tick?.();
      await d.idle();
      clock.advance(every);
      await d.idle();
    }
  };
  return { d, events, run };
}

test('command rate: a steady drive stream starts a session after the debounce; a pause ends it after stopAfterMs', async () => {
  const clock = new ManualClock(1_000_000);
  const { d, events, run } = detector([new CommandRateIndicator({ minRate: 2, windowMs: 2_000 })], clock);
  assert.equal(clock.pending, 0, 'idle without polled indicators: no timer');
  // 10 commands per second for 3 s.
  await run(3_000, 100, () => d.observeCommand(drive));
  assert.equal(events.length, 1);
  const [kind, session] = events[0] as ['start', TeleoperationSession];
  assert.equal(kind, 'start');
  assert.deepEqual(session.indicators, ['command_rate']);
  assert.equal(session.operator, null);
  // The rate was reached at the 4th command (0.3 s in); the session starts 1 s later, dated from then.
  assert.equal(session.since, 1_000_300);
  assert.ok(d.session);

  // A 3 s pause is not the end: the window empties after 2 s, the stop needs 5 s of quiet.
  await run(3_000);
  await run(1_000, 100, () => d.observeCommand(drive));
  assert.equal(events.length, 1);
  // The last command is at 6.9 s; the window still holds the rate until 8.6 s; the next reading
  // (every 500 ms, from 0.3 s) at 8.8 s starts the quiet, which ends the session 5 s later.
  await run(6_700);
  assert.equal(events.length, 1, 'not yet');
  await run(200);
  assert.equal(events.length, 2);
  const [stop, stopped, at] = events[1] as ['stop', TeleoperationSession, number];
  assert.equal(stop, 'stop');
  assert.equal(stopped, session);
  assert.equal(at, 1_013_800);
  assert.equal(d.session, undefined);
  assert.equal(clock.pending, 0, 'idle again: the timer is gone');
});

test('command rate: bursts shorter than the debounce, slow commands and other commands start nothing', async () => {
  const clock = new ManualClock();
  const { d, events, run } = detector([new CommandRateIndicator({ minRate: 10, windowMs: 500 })], clock);
  await run(800, 100, () => d.observeCommand(drive)); // 0.8 s at 10/s: at the rate for 0.8 s only
  await run(10_000);
  await run(10_000, 200, () => d.observeCommand(drive)); // 5/s: under the rate
  await run(3_000, 100, () => d.observeCommand({ ...drive, command: 'stop' }));
  await run(3_000, 100, () => d.observeCommand({ capability: 'hal.v1.led', command: 'drive' }));
  assert.deepEqual(events, []);
});

/** A custom indicator, switched by the test: the hook for indicators Flotilla does not ship. */
class Switch implements TeleoperationIndicator {
  readonly polled = true;
  reading: IndicatorReading = { active: false };
  constructor(readonly name: string) {}
  read(): IndicatorReading {
    return this.reading;
  }
}

test('polled indicators: sessions start and stop on their own, with operator and streams; several combine', async () => {
  const clock = new ManualClock();
  const video = new Switch('video_stream');
  const failing: TeleoperationIndicator = {
    name: 'broken',
    polled: true,
    read: () => {
      throw new Error('sensor gone');
    },
  };
  const { d, events, run } = detector([video, new Switch('console'), failing], clock);
  assert.equal(clock.pending, 1, 'polled: a timer from the start');
  await run(2_000);
  assert.equal(events.length, 0);
  video.reading = { active: true, operator: '10.0.0.7', streams: ['tcp:8554 10.0.0.7'] };
  await run(1_500);
  assert.equal(events.length, 1);
  const session = events[0]?.[1];
  assert.deepEqual(
    { operator: session?.operator, indicators: session?.indicators, streams: session?.streams },
    { operator: '10.0.0.7', indicators: ['video_stream'], streams: ['tcp:8554 10.0.0.7'] },
  );
  // A flicker shorter than stopAfterMs keeps the session.
  video.reading = { active: false };
  await run(2_000);
  video.reading = { active: true };
  await run(1_000);
  video.reading = { active: false };
  await run(5_500);
  assert.deepEqual(
    events.map((e) => e[0]),
    ['start', 'stop'],
  );
  d.stop();
  assert.equal(clock.pending, 0);
});
