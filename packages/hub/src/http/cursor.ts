import { isDeviceId } from '@flotilla/protocol';
import { ApiError, ApiErrors } from './errors.js';

/**
 * Opaque pagination cursors. A cursor is base64url of `<kind>1:<value>`: the kind keeps a device
 * cursor from being replayed against the event listing, the version digit lets the format change
 * later without misreading old cursors. Clients must treat them as opaque.
 */

const DEVICE = 'd1:';
const EVENT = 'e1:';
const LOG = 'l1:';
const ALERT = 'a1:';

function encode(prefix: string, value: string): string {
  return Buffer.from(prefix + value, 'utf8').toString('base64url');
}

function decode(prefix: string, cursor: string): string {
  // Buffer.from(…, 'base64url') skips characters outside the alphabet instead of failing, so
  // the round trip is what tells a real cursor from noise.
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(prefix) || encode(prefix, text.slice(prefix.length)) !== cursor) {
    throw new ApiError(ApiErrors.BAD_CURSOR);
  }
  return text.slice(prefix.length);
}

/** Cursor after a device id (devices are listed in id order). */
export function encodeDeviceCursor(lastId: string): string {
  return encode(DEVICE, lastId);
}

export function decodeDeviceCursor(cursor: string): string {
  const id = decode(DEVICE, cursor);
  if (!isDeviceId(id)) throw new ApiError(ApiErrors.BAD_CURSOR);
  return id;
}

/** Cursor after (ascending) or before (descending) an event-log position. */
export function encodeEventCursor(position: number): string {
  return encode(EVENT, String(position));
}

export function decodeEventCursor(cursor: string): number {
  return decodeNumber(EVENT, cursor);
}

/** Cursor after (ascending) or before (descending) a stored log line's id. */
export function encodeLogCursor(id: number): string {
  return encode(LOG, String(id));
}

export function decodeLogCursor(cursor: string): number {
  return decodeNumber(LOG, cursor);
}

function decodeNumber(prefix: string, cursor: string): number {
  const text = decode(prefix, cursor);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new ApiError(ApiErrors.BAD_CURSOR);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new ApiError(ApiErrors.BAD_CURSOR);
  return value;
}

/** Cursor after an alert in a newest-first listing: its start time and id. */
export function encodeAlertCursor(last: { startedAt: number; id: string }): string {
  return encode(ALERT, `${last.startedAt}:${last.id}`);
}

export function decodeAlertCursor(cursor: string): { startedAt: number; id: string } {
  const match = /^(0|[1-9][0-9]{0,15}):([A-Za-z0-9-]{1,64})$/.exec(decode(ALERT, cursor));
  const startedAt = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(startedAt)) throw new ApiError(ApiErrors.BAD_CURSOR);
  return { startedAt, id: match[2] as string };
}
