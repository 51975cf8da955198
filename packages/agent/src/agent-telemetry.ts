import { join } from 'node:path';
import {
  MAX_FRAME_BYTES,
  envelope,
  validateMessage,
  type AckPayload,
  type Clock,
  type TelemetryPayload,
  type TimerHandle,
} from '@flotilla/protocol';
import { AgentError, AgentErrorCodes } from './errors.js';
import type { AgentLogger } from './logger.js';
import {
  MemoryTelemetryBuffer,
  type TelemetryBuffer,
  type TelemetryBufferStats,
  type TelemetryDrop,
} from './telemetry-buffer.js';
import { DiskTelemetryBuffer } from './telemetry-segments.js';
import { TelemetrySender } from './telemetry-sender.js';

/**
 * The agent's telemetry from the call to the hub's ack: the buffer (on disk under the state
 * directory, or in memory), the sender with its window, the periodic flush (fsync), and the
 * report of what the cap dropped (an event `telemetry.dropped` to the hub, a warning in the log).
 */

/** Default cap of the on-disk buffer (MB). */
export const DEFAULT_TELEMETRY_BUFFER_MB = 64;
/** Default cap of an in-memory buffer (MB). */
export const DEFAULT_MEMORY_TELEMETRY_BUFFER_MB = 4;
/** How often buffered records are fsync'd (ms). */
export const DEFAULT_TELEMETRY_FLUSH_MS = 1000;
/** The event an agent sends after the cap dropped records. */
export const TELEMETRY_DROPPED_EVENT = 'telemetry.dropped';

/**
 * Checks a message before it is buffered, so a bad name fails at the call rather than as a
 * refusal from the hub later. Throws AgentError `invalid_message` for a message the protocol would
 * refuse, or one too large for a frame of its own (it could never be sent).
 */
export function checkTelemetry(
  device: string,
  ts: number,
  metrics: Record<string, number>,
  samples: Record<string, unknown> | undefined,
): void {
  const payload = samples === undefined ? { metrics, seq: 0 } : { metrics, samples, seq: 0 };
  const checked = validateMessage(envelope('telemetry', device, 1, ts, payload));
  if (!checked.ok) throw new AgentError(AgentErrorCodes.INVALID_MESSAGE, `telemetry: ${checked.error.message}`);
  if (JSON.stringify(payload).length > MAX_FRAME_BYTES - 1024) {
    throw new AgentError(AgentErrorCodes.INVALID_MESSAGE, `telemetry: larger than a frame (${MAX_FRAME_BYTES} bytes)`);
  }
}

export interface AgentTelemetryOptions {
  device: string;
  /** On-disk buffer here; absent: in memory. */
  dir: string | undefined;
  capMb: number | undefined;
  window: number | undefined;
  flushMs: number | undefined;
  clock: Clock;
  logger: AgentLogger;
  send(payload: TelemetryPayload, ts: number | undefined): boolean;
  /** Sends an event now; false when not connected (the report then waits for the next session). */
  sendEvent(type: string, data: Record<string, unknown>): boolean;
}

export interface AgentTelemetryStats extends TelemetryBufferStats {
  /** Records sent on this session and not yet acknowledged. */
  inflight: number;
  /** Highest seq the hub acknowledged (-1: none yet). */
  acked: number;
  /** Records the hub acknowledged since this agent started. */
  acknowledged: number;
  /** Values or messages the hub refused for good, as its acks reported (since this process started). */
  refused: number;
}

export class AgentTelemetry {
  readonly #options: AgentTelemetryOptions;
  readonly #buffer: TelemetryBuffer;
  readonly #sender: TelemetrySender;
  #flushTimer: TimerHandle | undefined;
  #refused = 0;
  /** Drops not yet reported to the hub. */
  #unreported: TelemetryDrop | undefined;
  #closed = false;

  constructor(options: AgentTelemetryOptions) {
    this.#options = options;
    const onDrop = (drop: TelemetryDrop): void => this.#dropped(drop);
    const dir = options.dir;
    if (dir === undefined) {
      this.#buffer = new MemoryTelemetryBuffer({
        capBytes: (options.capMb ?? DEFAULT_MEMORY_TELEMETRY_BUFFER_MB) * 1024 * 1024,
        onDrop,
      });
    } else {
      try {
        this.#buffer = new DiskTelemetryBuffer({
          dir,
          capBytes: (options.capMb ?? DEFAULT_TELEMETRY_BUFFER_MB) * 1024 * 1024,
          onDrop,
          onCorrupt: ({ path, offset, bytes }) =>
            options.logger.warn(
              { device: options.device, path, offset, bytes },
              'telemetry buffer: cut a torn or damaged record (and what followed it) from a segment',
            ),
        });
      } catch (err) {
        throw new AgentError(
          AgentErrorCodes.TELEMETRY_BUFFER_UNUSABLE,
          `cannot open the telemetry buffer in ${dir}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    this.#sender = new TelemetrySender({
      buffer: this.#buffer,
      clock: options.clock,
      ...(options.window !== undefined && { window: options.window }),
      send: options.send,
      onRefused: (refused) => {
        this.#refused += refused.length;
        options.logger.warn(
          { device: options.device, refused: refused.slice(0, 10), count: refused.length },
          'the hub refused telemetry (see docs/telemetry.md, Refusals)',
        );
      },
    });
  }

  /** Where the on-disk buffer of a state directory lives. */
  static dirIn(stateDir: string): string {
    return join(stateDir, 'telemetry');
  }

  get stats(): AgentTelemetryStats {
    return {
      ...this.#buffer.stats,
      inflight: this.#sender.inflight,
      acked: this.#buffer.acked,
      acknowledged: this.#sender.acknowledged,
      refused: this.#refused,
    };
  }

  /** Starts the periodic flush of an on-disk buffer (the agent started). */
  start(): void {
    if (this.#options.dir === undefined) return;
    this.#flushTimer ??= this.#options.clock.setInterval(
      () => this.#flush(),
      this.#options.flushMs ?? DEFAULT_TELEMETRY_FLUSH_MS,
    );
  }

  /** Buffers a message; false once closed, or when the buffer cannot take it (a full disk: logged). */
  append(ts: number, metrics: Record<string, number>, samples?: Record<string, unknown>): boolean {
    if (this.#closed) return false;
    try {
      this.#sender.append(ts, metrics, samples);
      return true;
    } catch (err) {
      this.#options.logger.error(
        { device: this.#options.device, err: (err as Error).message },
        'cannot buffer telemetry: the message is dropped',
      );
      return false;
    }
  }

  /** A session is up: report drops, replay the backlog, then go live. */
  connected(): void {
    this.#report();
    this.#sender.start();
  }

  disconnected(): void {
    this.#sender.stop();
  }

  acked(ack: AckPayload): void {
    this.#sender.acked(ack);
  }

  /** Now and then while connected: sends what a congested socket held back. */
  tick(): void {
    this.#sender.pump();
  }

  /** Flushes and closes the buffer (the agent stopped). What is unacknowledged stays on disk. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flushTimer?.cancel();
    this.#sender.stop();
    this.#buffer.close();
  }

  #flush(): void {
    try {
      this.#buffer.flush();
    } catch (err) {
      this.#options.logger.error(
        { device: this.#options.device, err: (err as Error).message },
        'cannot flush the telemetry buffer',
      );
    }
  }

  #dropped(drop: TelemetryDrop): void {
    this.#options.logger.warn(
      { device: this.#options.device, ...drop, capBytes: this.#buffer.stats.capBytes },
      'telemetry buffer full: dropped the oldest unacknowledged records',
    );
    const pending = this.#unreported;
    this.#unreported = pending
      ? { records: pending.records + drop.records, firstSeq: pending.firstSeq, lastSeq: drop.lastSeq }
      : { ...drop };
    this.#report();
  }

  #report(): void {
    const drop = this.#unreported;
    if (!drop) return;
    const total = this.#buffer.stats.dropped;
    if (this.#options.sendEvent(TELEMETRY_DROPPED_EVENT, { ...drop, total })) this.#unreported = undefined;
  }
}
