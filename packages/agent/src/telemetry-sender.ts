import {
  TokenBucket,
  type AckPayload,
  type Clock,
  type TelemetryPayload,
  type TelemetryRecord,
  type TimerHandle,
} from '@flotilla/protocol';
import type { TelemetryBuffer } from './telemetry-buffer.js';

/**
 * Moves buffered telemetry to the hub, in order, with flow control by acks: at most `window`
 * records are sent and not yet acknowledged. On each new session it starts again from the
 * oldest unacknowledged record (the hub drops what it already stored as duplicates), replays
 * the backlog packed many records to a frame, and then sends new records as they come.
 * Records keep their own `ts`, whenever they are sent.
 *
 * Frames are paced (FRAME_RATE): the hub refuses frames over a device's message rate unread
 * (100/s by default) and ends a session that had numbered telemetry in flight when it does, so
 * the agent stays well under it; records taken meanwhile share the next frame.
 */

export interface TelemetrySenderOptions {
  buffer: TelemetryBuffer;
  clock: Clock;
  /** Records sent and not yet acknowledged, at most (default 1000). */
  window?: number;
  /** Records per frame (default 500, at most MAX_TELEMETRY_RECORDS). */
  frameRecords?: number;
  /** Writes one telemetry frame (envelope `ts`: `ts`, or now). False when it could not (congested, closed). */
  send(payload: TelemetryPayload, ts: number | undefined): boolean;
  /** The hub refused some acknowledged data for good (bad values, too old...). */
  onRefused?(refused: NonNullable<AckPayload['refused']>): void;
}

/** A frame of records stays under this (the protocol's frame limit is 1 MiB). */
const FRAME_BYTES = 512 * 1024;
/** Telemetry frames per second, sustained and in a burst: half the hub's default message rate. */
export const FRAME_RATE = { rate: 50, burst: 20 } as const;

export class TelemetrySender {
  readonly #buffer: TelemetryBuffer;
  readonly #window: number;
  readonly #frameRecords: number;
  readonly #send: TelemetrySenderOptions['send'];
  readonly #onRefused: TelemetrySenderOptions['onRefused'];
  #active = false;
  /** Highest seq sent on this session. */
  #sentUpTo = -1;
  /** Seqs sent on this session and not yet acknowledged, oldest first. */
  #inflight: number[] = [];
  #pumping = false;
  #acknowledged = 0;
  readonly #clock: Clock;
  readonly #frames: TokenBucket;
  /** A pump waiting for the frame rate. */
  #later: TimerHandle | undefined;

  constructor(options: TelemetrySenderOptions) {
    this.#buffer = options.buffer;
    this.#clock = options.clock;
    this.#frames = new TokenBucket(FRAME_RATE.rate, FRAME_RATE.burst, options.clock.now());
    this.#window = options.window ?? 1000;
    this.#frameRecords = options.frameRecords ?? 500;
    this.#send = options.send;
    this.#onRefused = options.onRefused;
  }

  /** Records sent and not yet acknowledged. */
  get inflight(): number {
    return this.#inflight.length;
  }

  /** Records the hub acknowledged since this sender was created. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** A session is up: send everything unacknowledged, oldest first. */
  start(): void {
    this.#active = true;
    this.#sentUpTo = this.#buffer.acked;
    this.#inflight = [];
    this.pump();
  }

  /** The session is gone: what was in flight is sent again on the next one. */
  stop(): void {
    this.#active = false;
    this.#inflight = [];
    this.#later?.cancel();
    this.#later = undefined;
  }

  /** Buffers a new message (sent at once when the window allows). */
  append(ts: number, metrics: Record<string, number>, samples?: Record<string, unknown>): TelemetryRecord {
    const record = this.#buffer.append(ts, metrics, samples);
    this.pump();
    return record;
  }

  /** An `ack {of: 'telemetry'}`: everything up to `seq` is stored (or refused for good). */
  acked(ack: AckPayload): void {
    this.#buffer.ack(ack.seq);
    let done = 0;
    while (done < this.#inflight.length && this.#inflight[done]! <= ack.seq) done++;
    if (done > 0) this.#inflight.splice(0, done);
    this.#acknowledged += done;
    if (ack.refused && ack.refused.length > 0) this.#onRefused?.(ack.refused);
    this.pump();
  }

  /** Sends what the window allows. Also called now and then, after a congested socket refused a frame. */
  pump(): void {
    if (!this.#active || this.#pumping || this.#later) return;
    this.#pumping = true;
    try {
      while (this.#active && this.#inflight.length < this.#window) {
        const room = Math.min(this.#window - this.#inflight.length, this.#frameRecords);
        const records = this.#buffer.read(this.#sentUpTo, room);
        if (records.length === 0) return;
        const wait = this.#frames.take(this.#clock.now());
        if (wait > 0) {
          this.#later = this.#clock.setTimeout(() => {
            this.#later = undefined;
            this.pump();
          }, wait);
          return;
        }
        const frame = this.#fit(records);
        if (!this.#sendFrame(frame)) return;
        for (const record of frame) this.#inflight.push(record.seq);
        this.#sentUpTo = frame[frame.length - 1]!.seq;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** As many records as stay under FRAME_BYTES (at least one). */
  #fit(records: TelemetryRecord[]): TelemetryRecord[] {
    if (records.length === 1) return records;
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      bytes += JSON.stringify(records[i]).length;
      if (bytes > FRAME_BYTES && i > 0) return records.slice(0, i);
    }
    return records;
  }

  #sendFrame(records: TelemetryRecord[]): boolean {
    if (records.length > 1) return this.#send({ records }, undefined);
    const { seq, ts, metrics, samples } = records[0]!;
    return this.#send(samples === undefined ? { metrics, seq } : { metrics, samples, seq }, ts);
  }
}
