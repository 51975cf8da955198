import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { TelemetryRecord } from '@flotilla/protocol';
import {
  timeBasedSeq,
  toRecord,
  type TelemetryBuffer,
  type TelemetryBufferOptions,
  type TelemetryBufferStats,
  type TelemetryDrop,
} from './telemetry-buffer.js';

/**
 * The agent's on-disk telemetry buffer: append-only segment files in one directory
 * (docs/agent.md, "Telemetry buffer").
 *
 * - `<first seq, 16 digits>.seg`: records, each `[length u32 LE][crc32 u32 LE][JSON]`, the JSON
 *   being the protocol's TelemetryRecord. A record is written with one write(2) as it is taken,
 *   so it survives the agent process being killed; the file is fsync'd every flush (the agent
 *   flushes every second) and when a segment is sealed, so a power cut loses at most the last
 *   second. At open, a segment is read up to its first record that is short or fails its CRC (a
 *   torn write from a crash) and cut there.
 * - `cursor.json`: `{reserved, acked, dropped}`. Seqs are handed out in blocks: a block is
 *   reserved (the cursor written and fsync'd) before its first seq is used, and a restarted agent
 *   starts at the reserved mark. So a number the hub may have seen is never given to another
 *   message, even when the records that carried it were lost with the page cache (the hub would
 *   take the new message for a duplicate). `acked` is written lazily: losing it only means
 *   sending some acknowledged records again, which the hub drops as duplicates.
 * - A segment goes when every record in it is acknowledged; when the buffer passes its cap the
 *   oldest segment goes whatever it holds, and its unacknowledged records are counted as dropped.
 */

const SEGMENT_RE = /^(\d{16})\.seg$/;
const CURSOR_FILE = 'cursor.json';
const HEADER_BYTES = 8;
/** Seqs reserved per cursor write. */
const RESERVE_BLOCK = 4096;
/** A length field above this is corruption, not a record (a frame carries at most 1 MiB). */
const MAX_RECORD_BYTES = 2 * 1024 * 1024;

interface Segment {
  first: number;
  last: number;
  count: number;
  bytes: number;
  path: string;
}

interface Cursor {
  reserved: number;
  acked: number;
  dropped: number;
}

export interface DiskTelemetryBufferOptions extends TelemetryBufferOptions {
  dir: string;
  /** Size at which a segment is sealed and a new one started (default: cap/16, 64 KiB to 1 MiB). */
  segmentBytes?: number;
  /** Told of bytes cut from a segment at open (a torn or corrupt record and what follows it). */
  onCorrupt?: (info: { path: string; offset: number; bytes: number }) => void;
}

function segmentName(first: number): string {
  return `${String(first).padStart(16, '0')}.seg`;
}

/** Records of a segment's bytes from `offset`, up to the first that is incomplete or fails its CRC. */
function parseRecords(bytes: Buffer, offset = 0): { records: TelemetryRecord[]; end: number } {
  const records: TelemetryRecord[] = [];
  let at = offset;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const sum = bytes.readUInt32LE(at + 4);
    if (length === 0 || length > MAX_RECORD_BYTES || at + HEADER_BYTES + length > bytes.length) break;
    const body = bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (crc32(body) !== sum) break;
    let record: TelemetryRecord;
    try {
      record = JSON.parse(body.toString('utf8')) as TelemetryRecord;
    } catch {
      break;
    }
    if (!Number.isSafeInteger(record.seq)) break;
    records.push(record);
    at += HEADER_BYTES + length;
  }
  return { records, end: at };
}

function encode(record: TelemetryRecord): Buffer {
  const body = Buffer.from(JSON.stringify(record));
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, HEADER_BYTES);
  return out;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class DiskTelemetryBuffer implements TelemetryBuffer {
  readonly #dir: string;
  readonly #capBytes: number;
  readonly #segmentBytes: number;
  readonly #onDrop: TelemetryBufferOptions['onDrop'];
  readonly #segments: Segment[] = [];
  #fd: number | undefined;
  #next: number;
  #reserved: number;
  #acked: number;
  #dropped: number;
  #bytes = 0;
  #unsynced = false;
  #cursorDirty = false;
  /**
   * Parsed records of the last segments read: how far each file was parsed (the active one
   * grows), and only the records after `trimmed` (reads move forward; what they passed is let go
   * of, so steady sending keeps next to nothing in memory).
   */
  readonly #cache = new Map<string, { records: TelemetryRecord[]; offset: number; trimmed: number }>();

  /** Opens (or creates) the buffer in `dir`: recovers its segments and reserves the next seqs. */
  constructor(options: DiskTelemetryBufferOptions) {
    this.#dir = options.dir;
    this.#capBytes = options.capBytes;
    this.#segmentBytes =
      options.segmentBytes ?? Math.min(1024 * 1024, Math.max(64 * 1024, Math.floor(options.capBytes / 16)));
    this.#onDrop = options.onDrop;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const cursor = this.#readCursor(options.firstSeq ?? timeBasedSeq());
    this.#acked = cursor.acked;
    this.#dropped = cursor.dropped;
    let last = -1;
    const names = readdirSync(this.#dir)
      .filter((name) => SEGMENT_RE.test(name))
      .sort();
    for (const name of names) {
      const path = join(this.#dir, name);
      const bytes = readFileSync(path);
      const { records, end } = parseRecords(bytes);
      if (end < bytes.length) {
        // A torn last write (the agent or the machine died mid-record), or damage: what follows
        // the last good record cannot be framed again, so the segment is cut there.
        options.onCorrupt?.({ path, offset: end, bytes: bytes.length - end });
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, end);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      const newest = records[records.length - 1];
      if (!newest || newest.seq <= this.#acked) {
        unlinkSync(path);
        if (newest) last = Math.max(last, newest.seq);
        continue;
      }
      last = Math.max(last, newest.seq);
      this.#segments.push({ first: records[0]!.seq, last: newest.seq, count: records.length, bytes: end, path });
      this.#bytes += end;
    }
    this.#next = Math.max(cursor.reserved, last + 1);
    this.#reserved = this.#next;
    this.#reserve();
  }

  get acked(): number {
    return this.#acked;
  }

  get stats(): TelemetryBufferStats {
    let records = 0;
    for (const segment of this.#segments) records += segment.count;
    return { records, bytes: this.#bytes, capBytes: this.#capBytes, dropped: this.#dropped };
  }

  append(ts: number, metrics: Record<string, number>, samples?: Record<string, unknown>): TelemetryRecord {
    if (this.#next >= this.#reserved) this.#reserve();
    const record = toRecord(this.#next++, ts, metrics, samples);
    const frame = encode(record);
    let active = this.#segments[this.#segments.length - 1];
    if (!active || this.#fd === undefined || active.bytes + frame.length > this.#segmentBytes) {
      this.#seal();
      active = {
        first: record.seq,
        last: record.seq,
        count: 0,
        bytes: 0,
        path: join(this.#dir, segmentName(record.seq)),
      };
      this.#fd = openSync(active.path, 'a', 0o600);
      this.#segments.push(active);
      fsyncDir(this.#dir);
    }
    writeSync(this.#fd, frame);
    active.last = record.seq;
    active.count++;
    active.bytes += frame.length;
    this.#bytes += frame.length;
    this.#unsynced = true;
    this.#enforceCap();
    return record;
  }

  read(after: number, max: number): TelemetryRecord[] {
    const out: TelemetryRecord[] = [];
    for (const segment of this.#segments) {
      if (out.length >= max) break;
      if (segment.last <= after) continue;
      for (const record of this.#recordsOf(segment, after)) {
        if (record.seq <= after) continue;
        out.push(record);
        if (out.length >= max) break;
      }
    }
    return out;
  }

  ack(seq: number): void {
    if (seq <= this.#acked) return;
    this.#acked = seq;
    this.#cursorDirty = true;
    // Sealed segments only: the active one is being written to.
    while (this.#segments.length > 1 && this.#segments[0]!.last <= seq) this.#remove(this.#segments[0]!);
  }

  flush(): void {
    if (this.#unsynced && this.#fd !== undefined) fsyncSync(this.#fd);
    this.#unsynced = false;
    if (this.#cursorDirty) this.#writeCursor(false);
  }

  close(): void {
    this.flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#cache.clear();
  }

  // ---- internals -------------------------------------------------------------------------------

  /** The segment's records after `after` (more, possibly): parsed once, from the cache after that. */
  #recordsOf(segment: Segment, after = -1): TelemetryRecord[] {
    let cached = this.#cache.get(segment.path);
    if (cached && after < cached.trimmed) {
      // A read from further back (a new session starts again from the last ack): parse again.
      this.#cache.delete(segment.path);
      cached = undefined;
    }
    if (!cached) {
      cached = { records: [], offset: 0, trimmed: -1 };
      this.#cache.set(segment.path, cached);
      // Two entries: the segment being replayed and the one being written.
      if (this.#cache.size > 2) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    if (cached.offset < segment.bytes) {
      const length = segment.bytes - cached.offset;
      const bytes = Buffer.allocUnsafe(length);
      const fd = openSync(segment.path, 'r');
      try {
        readSync(fd, bytes, 0, length, cached.offset);
      } finally {
        closeSync(fd);
      }
      const parsed = parseRecords(bytes);
      cached.records.push(...parsed.records);
      cached.offset += parsed.end;
    }
    let passed = 0;
    while (passed < cached.records.length && cached.records[passed]!.seq <= after) passed++;
    if (passed > 0) {
      cached.records.splice(0, passed);
      cached.trimmed = after;
    }
    return cached.records;
  }

  /** Past the cap, the oldest segments go, acknowledged or not: the newest data is worth more. */
  #enforceCap(): void {
    let drop: TelemetryDrop | undefined;
    while (this.#bytes > this.#capBytes && this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const lost = this.#recordsOf(oldest).filter((record) => record.seq > this.#acked);
      this.#remove(oldest);
      if (lost.length === 0) continue;
      drop ??= { records: 0, firstSeq: lost[0]!.seq, lastSeq: 0 };
      drop.records += lost.length;
      drop.lastSeq = lost[lost.length - 1]!.seq;
    }
    if (!drop) return;
    this.#dropped += drop.records;
    this.#cursorDirty = true;
    this.#onDrop?.(drop);
  }

  #remove(segment: Segment): void {
    this.#segments.splice(this.#segments.indexOf(segment), 1);
    this.#cache.delete(segment.path);
    this.#bytes -= segment.bytes;
    unlinkSync(segment.path);
  }

  #seal(): void {
    if (this.#fd === undefined) return;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = undefined;
    this.#unsynced = false;
  }

  #reserve(): void {
    this.#reserved = this.#next + RESERVE_BLOCK;
    this.#writeCursor(true);
  }

  /** The cursor; without a readable one (a new buffer, or a damaged file) numbering starts at `firstSeq`. */
  #readCursor(firstSeq: number): Cursor {
    const fresh = { reserved: firstSeq, acked: -1, dropped: 0 };
    try {
      const parsed = JSON.parse(readFileSync(join(this.#dir, CURSOR_FILE), 'utf8')) as Partial<Cursor>;
      const int = (value: unknown): number | undefined =>
        typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
      const reserved = int(parsed.reserved);
      if (reserved === undefined) return fresh;
      return { reserved, acked: int(parsed.acked) ?? -1, dropped: int(parsed.dropped) ?? 0 };
    } catch {
      return fresh;
    }
  }

  /** Written whole and renamed into place; `durable` also fsyncs it (a reservation must survive a power cut). */
  #writeCursor(durable: boolean): void {
    const path = join(this.#dir, CURSOR_FILE);
    const tmp = `${path}.tmp`;
    const text = `${JSON.stringify({ reserved: this.#reserved, acked: this.#acked, dropped: this.#dropped })}\n`;
    if (durable) {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } else {
      writeFileSync(tmp, text, { mode: 0o600 });
    }
    renameSync(tmp, path);
    if (durable) fsyncDir(this.#dir);
    this.#cursorDirty = false;
  }
}
