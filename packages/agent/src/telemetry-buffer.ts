import type { TelemetryRecord } from '@flotilla/protocol';

/**
 * Where the agent keeps every telemetry message from the moment it is taken until the hub
 * acknowledges it: numbered (the durable telemetry `seq`), oldest first, bounded in bytes.
 * Two implementations: on disk (telemetry-segments.ts, what a real agent uses, surviving
 * restarts) and in memory (below: the simulator's robots inside a hub process, and agents
 * created without a state directory, such as tests).
 */
export interface TelemetryBuffer {
  /** Numbers the message and keeps it; when the cap is reached the oldest records are dropped (`onDrop`). */
  append(ts: number, metrics: Record<string, number>, samples?: Record<string, unknown>): TelemetryRecord;
  /** Records numbered after `after`, oldest first, at most `max`. */
  read(after: number, max: number): TelemetryRecord[];
  /** The hub has every record up to `seq`: they may go. */
  ack(seq: number): void;
  /** Highest acknowledged seq (-1: none yet). */
  readonly acked: number;
  readonly stats: TelemetryBufferStats;
  /** Makes what was appended durable now (a no-op in memory). */
  flush(): void;
  close(): void;
}

export interface TelemetryBufferStats {
  /** Records kept (not yet acknowledged, or acknowledged but not yet let go of). */
  records: number;
  bytes: number;
  capBytes: number;
  /** Unacknowledged records dropped because the cap was reached, since the buffer was created. */
  dropped: number;
}

/** Oldest records dropped at the cap: how many, and which. */
export interface TelemetryDrop {
  records: number;
  firstSeq: number;
  lastSeq: number;
}

export interface TelemetryBufferOptions {
  capBytes: number;
  /** First seq of a new buffer (default `timeBasedSeq()`). */
  firstSeq?: number;
  /** Told each time the cap drops unacknowledged records. */
  onDrop?: (drop: TelemetryDrop) => void;
}

/**
 * Where a new buffer starts numbering: the wall clock in µs. The hub keeps the numbers it stored
 * per device id (for its dedup window, 7 days), so a device whose buffer starts afresh (a wiped
 * state directory, a simulator restarted with its hub, a buffer in memory) must not count from 0
 * again: the hub would take its new messages for duplicates of old ones. Numbers from the clock
 * stay above any an earlier buffer reached unless it sent over 1,000 messages per millisecond of
 * its life, and fit a safe integer until the year 2255.
 */
export function timeBasedSeq(): number {
  return Date.now() * 1000;
}

/** What a record costs in the buffer: its JSON (as sent) plus a little framing. */
export function recordBytes(json: string): number {
  return Buffer.byteLength(json) + 8;
}

export function toRecord(
  seq: number,
  ts: number,
  metrics: Record<string, number>,
  samples: Record<string, unknown> | undefined,
): TelemetryRecord {
  return samples === undefined ? { seq, ts, metrics } : { seq, ts, metrics, samples };
}

/**
 * In memory: what is buffered dies with the process, so it suits agents that live and die with
 * their hub — the simulator's robots inside a hub process — and tests. Numbering starts from the
 * clock (timeBasedSeq) with each process.
 */
export class MemoryTelemetryBuffer implements TelemetryBuffer {
  readonly #records: Array<{ record: TelemetryRecord; bytes: number }> = [];
  #head = 0;
  #next: number;
  #acked = -1;
  #bytes = 0;
  #dropped = 0;
  readonly #capBytes: number;
  readonly #onDrop: TelemetryBufferOptions['onDrop'];

  constructor(options: TelemetryBufferOptions) {
    this.#capBytes = options.capBytes;
    this.#onDrop = options.onDrop;
    this.#next = options.firstSeq ?? timeBasedSeq();
  }

  get acked(): number {
    return this.#acked;
  }

  get stats(): TelemetryBufferStats {
    return {
      records: this.#records.length - this.#head,
      bytes: this.#bytes,
      capBytes: this.#capBytes,
      dropped: this.#dropped,
    };
  }

  append(ts: number, metrics: Record<string, number>, samples?: Record<string, unknown>): TelemetryRecord {
    const record = toRecord(this.#next++, ts, metrics, samples);
    const bytes = recordBytes(JSON.stringify(record));
    this.#records.push({ record, bytes });
    this.#bytes += bytes;
    let drop: TelemetryDrop | undefined;
    while (this.#bytes > this.#capBytes && this.#records.length - this.#head > 1) {
      const oldest = this.#records[this.#head++]!;
      this.#bytes -= oldest.bytes;
      if (oldest.record.seq <= this.#acked) continue;
      drop ??= { records: 0, firstSeq: oldest.record.seq, lastSeq: oldest.record.seq };
      drop.records++;
      drop.lastSeq = oldest.record.seq;
    }
    this.#compact();
    if (drop) {
      this.#dropped += drop.records;
      this.#onDrop?.(drop);
    }
    return record;
  }

  read(after: number, max: number): TelemetryRecord[] {
    const out: TelemetryRecord[] = [];
    // Records are in seq order: skip by binary search rather than walking a long backlog.
    let lo = this.#head;
    let hi = this.#records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#records[mid]!.record.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#records.length && out.length < max; i++) out.push(this.#records[i]!.record);
    return out;
  }

  ack(seq: number): void {
    if (seq <= this.#acked) return;
    this.#acked = seq;
    while (this.#head < this.#records.length && this.#records[this.#head]!.record.seq <= seq) {
      this.#bytes -= this.#records[this.#head++]!.bytes;
    }
    this.#compact();
  }

  flush(): void {}

  close(): void {}

  /** Drops the consumed front of the array now and then (a shift per record would be O(n)). */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
