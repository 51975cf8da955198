import type { RawData } from 'ws';
import { ErrorCodes, parseFrame, type ErrorPayload, type Message, type MessageOf } from '@flotilla/protocol';

/** The frames a hub sends an agent; any other valid frame is refused as `wrong_direction`. */
const FROM_HUB = new Set<string>(['welcome', 'ack', 'command', 'cancel', 'error']);

export type HubMessage = MessageOf<'welcome' | 'ack' | 'command' | 'cancel' | 'error'>;

/**
 * One frame from the hub, checked before the agent acts on it: a valid protocol frame, for this
 * device, of a type a hub sends. Otherwise the error to answer with; `unparsed` marks a frame that
 * is not valid protocol at all (the agent logs those). Never throws.
 */
export function readHubFrame(
  data: RawData,
  device: string,
): { ok: true; msg: HubMessage } | { ok: false; error: ErrorPayload; unparsed: boolean } {
  const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  const parsed = parseFrame(raw);
  if (!parsed.ok) return { ok: false, error: parsed.error, unparsed: true };
  const msg = parsed.value;
  if (msg.device !== device) {
    const error = { code: ErrorCodes.DEVICE_MISMATCH, message: `frame is for ${msg.device}, this is ${device}` };
    return { ok: false, error: { ...error, ref: refOf(msg) }, unparsed: false };
  }
  if (!FROM_HUB.has(msg.type)) {
    const error = { code: ErrorCodes.WRONG_DIRECTION, message: `${msg.type} is not sent by a hub` };
    return { ok: false, error: { ...error, ref: refOf(msg) }, unparsed: false };
  }
  return { ok: true, msg: msg as HubMessage };
}

function refOf(msg: Message): { type: string; seq: number } {
  return { type: msg.type, seq: msg.seq };
}
