import { PROTOCOL_VERSION, type MessageOf, type MessageType, type PayloadOf } from './messages.js';

/** Builds an envelope. `seq` is per sender and per session; `ts` is the sender's clock (ms). */
export function envelope<T extends MessageType>(
  type: T,
  device: string,
  seq: number,
  ts: number,
  payload: PayloadOf<T>,
): MessageOf<T> {
  return { v: PROTOCOL_VERSION, type, device, seq, ts, payload } as unknown as MessageOf<T>;
}
