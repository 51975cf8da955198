import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type TelemetryPayload } from '@flotilla/protocol';
import { MemoryTelemetryBuffer } from './telemetry-buffer.js';
import { FRAME_RATE, TelemetrySender } from './telemetry-sender.js';

function setup(window = 10, frameRecords = 4) {
  const clock = new ManualClock(1_000);
  const buffer = new MemoryTelemetryBuffer({ capBytes: 1024 * 1024, firstSeq: 100 });
  const frames: Array<{ payload: TelemetryPayload; ts: number | undefined }> = [];
  let open = true;
  const sender = new TelemetrySender({
    buffer,
    clock,
    window,
    frameRecords,
    send: (payload, ts) => {
      if (!open) return false;
      frames.push({ payload, ts });
      return true;
    },
  });
  const seqs = (from = 0): number[] =>
    frames
      .slice(from)
      .flatMap(({ payload }) => ('records' in payload ? payload.records.map((r) => r.seq) : [payload.seq ?? -1]));
  return { clock, buffer, sender, frames, seqs, setOpen: (value: boolean) => (open = value) };
}

test('a backlog goes out oldest first, packed to frames, no more than the window ahead of the acks', () => {
  const { sender, frames, seqs } = setup(10, 4);
  for (let i = 0; i < 25; i++) sender.append(5_000 + i, { n: i });
  sender.start();
  assert.deepEqual(seqs(), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  assert.equal(frames.length, 3, '4 + 4 + 2 records');
  assert.ok('records' in frames[0]!.payload);
  assert.deepEqual(frames[0]!.payload.records[1], { seq: 101, ts: 5_001, metrics: { n: 1 } });
  assert.equal(sender.inflight, 10);

  sender.acked({ of: 'telemetry', seq: 103 });
  assert.deepEqual(seqs(3), [110, 111, 112, 113]);
  assert.equal(sender.acknowledged, 4);
});

test('a new session starts again from the last ack; a live message goes alone, at its own time', () => {
  const { sender, frames, seqs, clock, setOpen } = setup(10, 4);
  sender.start();
  sender.append(7_000, { n: 0 });
  sender.append(7_001, { n: 1 });
  assert.deepEqual(frames[0], { payload: { metrics: { n: 0 }, seq: 100 }, ts: 7_000 });
  sender.acked({ of: 'telemetry', seq: 100 });
  sender.stop();
  setOpen(false);
  sender.append(7_002, { n: 2 });
  setOpen(true);
  clock.advance(1_000);
  const before = frames.length;
  sender.start();
  assert.deepEqual(seqs(before), [101, 102], 'the unacknowledged one again, then the one taken offline');
});

test('frames are paced: a burst, then FRAME_RATE a second; records taken meanwhile share a frame', () => {
  const { sender, frames, clock } = setup(1_000, 500);
  sender.start();
  for (let i = 0; i < FRAME_RATE.burst; i++) sender.append(i, { n: i });
  assert.equal(frames.length, FRAME_RATE.burst);
  for (let i = 0; i < 5; i++) sender.append(100 + i, { n: i });
  assert.equal(frames.length, FRAME_RATE.burst, 'over the burst: waiting');
  clock.advance(1000 / FRAME_RATE.rate);
  assert.equal(frames.length, FRAME_RATE.burst + 1);
  const last = frames[frames.length - 1]!.payload;
  assert.ok('records' in last);
  assert.equal(last.records.length, 5);
});

test('a congested socket holds records back until the next pump', () => {
  const { sender, frames, setOpen } = setup();
  sender.start();
  setOpen(false);
  sender.append(1, { n: 1 });
  assert.equal(frames.length, 0);
  setOpen(true);
  sender.pump();
  assert.equal(frames.length, 1);
});
