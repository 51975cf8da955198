import { WebSocket } from 'ws';
import {
  envelope,
  validateMessage,
  type Clock,
  type MessageOf,
  type MessageType,
  type PayloadOf,
} from '@flotilla/protocol';
import { AgentError, AgentErrorCodes } from './errors.js';
import type { AgentStats } from './options.js';

/** A socket that has not drained this much is congested; more frames would only queue in memory. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Numbers and writes one agent's outbound frames. `seq` is per session (reset when a socket
 * opens); what cannot be written (socket not open, congested) is dropped and counted in
 * `counters.dropped`, sent frames in `counters.sent`.
 */
export class FrameWriter {
  /** Seq of the last frame written on this session. */
  seq = 0;

  constructor(
    private readonly device: string,
    private readonly clock: Clock,
    private readonly counters: AgentStats,
  ) {}

  /** The next frame of `type`, taken at `ts` (default now). */
  next<T extends MessageType>(type: T, payload: PayloadOf<T>, ts?: number): MessageOf<T> {
    return envelope(type, this.device, this.seq + 1, ts ?? this.clock.now(), payload);
  }

  /**
   * The next frame, validated against the protocol schema, so a caller-supplied bad name fails
   * at the call rather than as an error frame from the hub later. Throws AgentError `invalid_message`.
   */
  checked<T extends MessageType>(type: T, payload: PayloadOf<T>, ts?: number): MessageOf<T> {
    const msg = this.next(type, payload, Math.round(ts ?? this.clock.now()));
    const checked = validateMessage(msg);
    if (!checked.ok) throw new AgentError(AgentErrorCodes.INVALID_MESSAGE, `${type}: ${checked.error.message}`);
    return msg;
  }

  send<T extends MessageType>(ws: WebSocket, type: T, payload: PayloadOf<T>): boolean {
    return this.write(ws, this.next(type, payload));
  }

  write(ws: WebSocket, msg: MessageOf<MessageType>): boolean {
    if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.dropped++;
      return false;
    }
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (err) {
      // a handler result with a cycle or a BigInt: the hub still deserves an answer
      if (msg.type !== 'result') throw err;
      const { id } = (msg as MessageOf<'result'>).payload;
      text = JSON.stringify(
        envelope('result', this.device, msg.seq, msg.ts, {
          id,
          status: 'failed',
          error: { code: AgentErrorCodes.COMMAND_FAILED, message: `result is not JSON: ${(err as Error).message}` },
        }),
      );
    }
    this.seq = msg.seq;
    ws.send(text);
    this.counters.sent++;
    return true;
  }
}
