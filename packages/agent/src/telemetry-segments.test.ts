import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTelemetryBuffer, type TelemetryDrop } from './telemetry-buffer.js';
import { DiskTelemetryBuffer } from './telemetry-segments.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-tbuf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const segments = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.seg'));

test('disk buffer: numbers from firstSeq, reads in order after a seq, seals segments and deletes acknowledged ones', (t) => {
  const dir = tempDir(t);
  const buffer = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, segmentBytes: 1024, firstSeq: 100 });
  for (let i = 0; i < 50; i++) buffer.append(1_000 + i, { n: i }, i % 10 === 0 ? { pose: { x: i } } : undefined);
  assert.ok(segments(dir).length > 2, 'several segments');
  const all = buffer.read(-1, 1000);
  assert.deepEqual(
    all.map((r) => r.seq),
    Array.from({ length: 50 }, (_, i) => 100 + i),
  );
  assert.deepEqual(all[10], { seq: 110, ts: 1_010, metrics: { n: 10 }, samples: { pose: { x: 10 } } });
  assert.deepEqual(
    buffer.read(120, 3).map((r) => r.seq),
    [121, 122, 123],
  );
  const before = segments(dir).length;
  buffer.ack(130);
  assert.ok(segments(dir).length < before, 'fully acknowledged segments are gone');
  assert.equal(buffer.read(-1, 1)[0]!.seq <= 131, true, 'what is left starts at or before the first unacknowledged');
  assert.deepEqual(
    buffer.read(130, 1000).map((r) => r.seq),
    Array.from({ length: 19 }, (_, i) => 131 + i),
  );
  buffer.close();
});

test('disk buffer: a restart keeps unacknowledged records and never reuses a number', (t) => {
  const dir = tempDir(t);
  const first = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  for (let i = 0; i < 10; i++) first.append(i, { n: i });
  first.ack(3);
  first.flush();
  // No close(): the process is killed. Records were written with write(2) as they came.
  const second = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  assert.equal(second.acked, 3);
  assert.deepEqual(
    second.read(second.acked, 100).map((r) => [r.seq, r.ts]),
    [4, 5, 6, 7, 8, 9].map((n) => [n, n]),
  );
  const next = second.append(99, { n: 99 });
  assert.ok(next.seq > 9, `a new number after the restart (got ${next.seq})`);
  second.close();

  // Everything acknowledged and every segment gone: the numbering still goes on from the cursor.
  const third = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  third.ack(next.seq);
  const after = third.append(100, { n: 100 });
  assert.ok(after.seq > next.seq);
  third.close();
});

test('disk buffer: a torn last record (a crash mid-write) is cut; the records before it survive', (t) => {
  const dir = tempDir(t);
  const buffer = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  for (let i = 0; i < 5; i++) buffer.append(i, { n: i });
  buffer.close();
  const [name] = segments(dir);
  const path = join(dir, name!);
  const whole = statSync(path).size;
  truncateSync(path, whole - 3); // the last record lost its tail
  appendFileSync(path, Buffer.from([0xff, 0xff])); // and some garbage came after

  const cut: Array<{ offset: number; bytes: number }> = [];
  const reopened = new DiskTelemetryBuffer({
    dir,
    capBytes: 1024 * 1024,
    firstSeq: 0,
    onCorrupt: ({ offset, bytes }) => cut.push({ offset, bytes }),
  });
  assert.deepEqual(
    reopened.read(-1, 100).map((r) => r.seq),
    [0, 1, 2, 3],
  );
  assert.equal(cut.length, 1);
  assert.equal(statSync(path).size, cut[0]!.offset, 'the segment is cut at the last good record');
  reopened.append(9, { n: 9 });
  assert.equal(reopened.read(3, 100).length, 1, 'appends go on after the cut');
  reopened.close();
});

test('disk buffer: a damaged record (bad CRC) ends what is read of its segment', (t) => {
  const dir = tempDir(t);
  const buffer = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  for (let i = 0; i < 3; i++) buffer.append(i, { n: i });
  buffer.close();
  const path = join(dir, segments(dir)[0]!);
  const bytes = readFileSync(path);
  // Flip a byte inside the second record's JSON.
  const second = bytes.indexOf('"seq":1');
  bytes[second + 2] = 'X'.charCodeAt(0);
  rmSync(path);
  appendFileSync(path, bytes);
  const reopened = new DiskTelemetryBuffer({ dir, capBytes: 1024 * 1024, firstSeq: 0 });
  assert.deepEqual(
    reopened.read(-1, 100).map((r) => r.seq),
    [0],
  );
  reopened.close();
});

test('disk buffer: past the cap the oldest segments are dropped and counted, the newest kept', (t) => {
  const dir = tempDir(t);
  const drops: TelemetryDrop[] = [];
  const buffer = new DiskTelemetryBuffer({
    dir,
    capBytes: 4096,
    segmentBytes: 1024,
    firstSeq: 0,
    onDrop: (drop) => drops.push(drop),
  });
  for (let i = 0; i < 200; i++) buffer.append(i, { value: i, other: i * 2 });
  const { bytes, dropped, records } = buffer.stats;
  assert.ok(bytes <= 4096, `within the cap (${bytes})`);
  const kept = buffer.read(-1, 1000).map((r) => r.seq);
  assert.equal(kept.length, records);
  assert.equal(kept[kept.length - 1], 199, 'the newest is kept');
  assert.equal(dropped, 200 - kept.length, 'every record not kept was counted as dropped');
  assert.deepEqual(
    kept,
    Array.from({ length: kept.length }, (_, i) => 200 - kept.length + i),
    'what is dropped is the oldest',
  );
  assert.equal(
    drops.reduce((sum, d) => sum + d.records, 0),
    dropped,
  );
  assert.equal(drops[0]!.firstSeq, 0);
  buffer.close();
  const reopened = new DiskTelemetryBuffer({ dir, capBytes: 4096, firstSeq: 0 });
  assert.equal(reopened.stats.dropped, dropped, 'the count survives a restart');
  reopened.close();
});

test('memory buffer: same contract, dropping the oldest records past its cap', () => {
  const drops: TelemetryDrop[] = [];
  const buffer = new MemoryTelemetryBuffer({ capBytes: 2000, firstSeq: 10, onDrop: (d) => drops.push(d) });
  for (let i = 0; i < 100; i++) buffer.append(i, { n: i });
  const kept = buffer.read(-1, 1000).map((r) => r.seq);
  assert.equal(kept[kept.length - 1], 109);
  assert.equal(buffer.stats.dropped, 100 - kept.length);
  assert.equal(kept[0], 10 + buffer.stats.dropped);
  buffer.ack(105);
  assert.deepEqual(
    buffer.read(-1, 1000).map((r) => r.seq),
    [106, 107, 108, 109],
  );
  assert.deepEqual(
    buffer.read(107, 1000).map((r) => r.seq),
    [108, 109],
  );
});
