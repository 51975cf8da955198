import type { Logger } from 'pino';
import { MAX_ACK_REFUSALS, type AckPayload, type TelemetryRecord } from '@flotilla/protocol';
import { INGEST_DEFAULTS, type IngestResult, type TelemetryIngest } from '../telemetry/ingest.js';
import { RefusalReasons, type RefusalReason } from '../telemetry/validate.js';
import type { DeviceSession } from './session.js';

/**
 * Numbered telemetry from devices (the durable telemetry `seq`, docs/protocol.md): hands it to
 * the ingest, follows each message to its durable write (or refusal), and answers the session
 * with cumulative, batched acks: `ack {of: 'telemetry', seq: N, refused?}` means every numbered
 * message of this session up to N, in the order it arrived, is stored or refused for good.
 *
 * The contract with the device: each numbered message is acknowledged, or the session ends.
 * - refusals that sending again cannot cure (bad values, `ts_too_old`...) are acknowledged and
 *   listed in the ack;
 * - `overloaded` (the queue at its hard limit) is not a refusal of the data: the call is
 *   submitted again once the ingest's pressure is back to `ok`;
 * - a storage failure (the ingest rejects) or `shutting_down` is never acknowledged: the session
 *   is ended (`endSession`), and the device sends the messages again on its next session, where
 *   dedup by (device, seq) stores each once.
 */

/** A refusal as the ack reports it. */
type AckRefusal = NonNullable<AckPayload['refused']>[number];

interface Entry {
  seq: number;
  done: boolean;
  refused: AckRefusal[] | undefined;
}

interface SessionAcks {
  /** Messages in arrival order, from the oldest not yet acknowledged. */
  entries: Entry[];
  /** Index of the first entry not yet acknowledged (entries before it are dropped now and then). */
  head: number;
  failed: boolean;
}

export interface TelemetryAcksOptions {
  ingest: Pick<TelemetryIngest, 'submit' | 'pressure' | 'on' | 'off'>;
  logger: Logger;
  /** Sends an ack frame to the session (the gateway checks that the session is still open). */
  send(session: DeviceSession, ack: AckPayload): void;
  /** The hub cannot store this session's telemetry now: end it, so the device sends again later. */
  endSession(session: DeviceSession, why: string): void;
  /**
   * How long acks wait to be batched (ms, default 5): every message of every session settled
   * meanwhile is answered by one ack per session. A coalescing delay on the event loop, not a
   * timeout: nothing waits on it but the ack.
   */
  ackDelayMs?: number;
  /** Points + samples per submit call (the ingest's limit; a frame's records are split to fit). */
  maxSubmitPoints?: number;
}

/** Reasons that say "not now", not "never": the data is not refused, the call is made again. */
const RETRY_REASONS: ReadonlySet<RefusalReason> = new Set([RefusalReasons.OVERLOADED]);
/** A retry when the queue has room again already: not at once, so a call that can never fit does not spin. */
const RETRY_SOON_MS = 50;
/** Reasons that mean the ingest will take nothing more from this process. */
const END_REASONS: ReadonlySet<RefusalReason> = new Set([RefusalReasons.SHUTTING_DOWN]);

export class TelemetryAcks {
  readonly #options: TelemetryAcksOptions;
  readonly #sessions = new WeakMap<DeviceSession, SessionAcks>();
  readonly #dirty = new Set<DeviceSession>();
  readonly #ackDelayMs: number;
  readonly #maxSubmitPoints: number;
  /** A flush is scheduled (one for every session with settled messages). */
  #flushPending = false;
  /** Calls refused `overloaded`, made again when the pressure is back to `ok`. */
  #retries: Array<() => void> = [];

  constructor(options: TelemetryAcksOptions) {
    this.#options = options;
    this.#ackDelayMs = options.ackDelayMs ?? 5;
    this.#maxSubmitPoints = options.maxSubmitPoints ?? INGEST_DEFAULTS.maxSubmitPoints;
    options.ingest.on('pressure', this.#onPressure);
  }

  /** The session has sent numbered telemetry: its acks are cumulative, so a frame lost unread would be acked over. */
  numbered(session: DeviceSession): boolean {
    return this.#sessions.has(session);
  }

  /** Stops listening to the ingest (the gateway is closing). */
  dispose(): void {
    this.#options.ingest.off('pressure', this.#onPressure);
  }

  readonly #onPressure = (pressure: 'ok' | 'full'): void => {
    if (pressure !== 'ok') return;
    const retries = this.#retries;
    this.#retries = [];
    for (const retry of retries) retry();
  };

  /** Messages (numbered, in the order the session received them) to store and acknowledge. */
  submit(session: DeviceSession, device: string, records: readonly TelemetryRecord[]): void {
    let state = this.#sessions.get(session);
    if (!state) {
      state = { entries: [], head: 0, failed: false };
      this.#sessions.set(session, state);
    }
    if (state.failed) return; // the session is ending: nothing of it will be acknowledged
    let chunk: TelemetryRecord[] = [];
    let chunkEntries: Entry[] = [];
    let points = 0;
    for (const record of records) {
      const size = Object.keys(record.metrics).length + (record.samples ? Object.keys(record.samples).length : 0);
      if (chunk.length > 0 && points + size > this.#maxSubmitPoints) {
        this.#store(session, state, device, chunk, chunkEntries);
        chunk = [];
        chunkEntries = [];
        points = 0;
      }
      const entry: Entry = { seq: record.seq, done: false, refused: undefined };
      state.entries.push(entry);
      chunk.push(record);
      chunkEntries.push(entry);
      points += size;
    }
    if (chunk.length > 0) this.#store(session, state, device, chunk, chunkEntries);
  }

  #store(
    session: DeviceSession,
    state: SessionAcks,
    device: string,
    records: readonly TelemetryRecord[],
    entries: readonly Entry[],
  ): void {
    this.#options.ingest.submit(device, records).then(
      (result) => this.#settle(session, state, device, records, entries, result),
      (err: unknown) => {
        this.#options.logger.error(
          { err, device },
          'cannot store telemetry: ending the session, the device sends again',
        );
        this.#fail(session, state, 'the hub cannot store telemetry now; send it again on the next session');
      },
    );
  }

  #settle(
    session: DeviceSession,
    state: SessionAcks,
    device: string,
    records: readonly TelemetryRecord[],
    entries: readonly Entry[],
    result: IngestResult,
  ): void {
    if (state.failed) return;
    const byIndex = new Map<number, AckRefusal[]>();
    for (const refusal of result.refused) {
      if (RETRY_REASONS.has(refusal.reason)) {
        // Refused whole: the call is made again as it was, once the queue has room (soon, if the
        // pressure already went back to `ok` before this answer was read).
        const retry = (): void => this.#store(session, state, device, records, entries);
        if (this.#options.ingest.pressure === 'ok') setTimeout(retry, RETRY_SOON_MS).unref();
        else this.#retries.push(retry);
        return;
      }
      if (END_REASONS.has(refusal.reason)) return this.#fail(session, state, 'the hub is shutting down');
      const entry = entries[refusal.index];
      if (!entry) continue;
      const reported: AckRefusal = { seq: entry.seq, reason: refusal.reason };
      if (refusal.name !== undefined) reported.name = refusal.name.slice(0, 128);
      byIndex.set(refusal.index, [...(byIndex.get(refusal.index) ?? []), reported]);
    }
    if (result.refused.length > 0) {
      this.#options.logger.debug({ device, refused: result.refused.length }, 'telemetry refused');
    }
    entries.forEach((entry, index) => {
      entry.done = true;
      entry.refused = byIndex.get(index);
    });
    this.#dirty.add(session);
    if (this.#flushPending) return;
    this.#flushPending = true;
    if (this.#ackDelayMs > 0) setTimeout(() => this.#flush(), this.#ackDelayMs).unref();
    else setImmediate(() => this.#flush());
  }

  #fail(session: DeviceSession, state: SessionAcks, why: string): void {
    if (state.failed) return;
    state.failed = true;
    state.entries = [];
    this.#dirty.delete(session);
    this.#options.endSession(session, why);
  }

  /** One ack per session with settled messages at the head of its list (more if it has many refusals). */
  #flush(): void {
    this.#flushPending = false;
    const sessions = [...this.#dirty];
    this.#dirty.clear();
    for (const session of sessions) {
      const state = this.#sessions.get(session);
      if (!state || state.failed) continue;
      let acked: number | undefined;
      let refused: AckRefusal[] = [];
      const { entries } = state;
      while (state.head < entries.length) {
        const entry = entries[state.head];
        if (!entry?.done) break;
        state.head++;
        if (entry.refused) {
          // A list that would overflow goes first, with the seq before this message: acks stay
          // cumulative. One message's refusals past the limit are only counted (in /metrics).
          if (refused.length > 0 && refused.length + entry.refused.length > MAX_ACK_REFUSALS && acked !== undefined) {
            this.#options.send(session, { of: 'telemetry', seq: acked, refused });
            refused = [];
          }
          refused.push(...entry.refused.slice(0, MAX_ACK_REFUSALS - refused.length));
        }
        acked = entry.seq;
      }
      if (acked !== undefined) {
        this.#options.send(
          session,
          refused.length > 0 ? { of: 'telemetry', seq: acked, refused } : { of: 'telemetry', seq: acked },
        );
      }
      // Forget acknowledged entries now and then, not on every ack (a shift is O(n)).
      if (state.head > 1024 || state.head === entries.length) {
        entries.splice(0, state.head);
        state.head = 0;
      }
    }
  }
}
