import { LOG_LEVEL_VALUES, isLogLevel } from '@flotilla/protocol';
import type { NewLogLine } from '../storage/logs.js';

/**
 * Checks one log line a transport hands the log ingest. A refused line names its reason (stable
 * codes, counted in /metrics, sent back to the device in a `log_refused` error frame and listed
 * in docs/logs.md).
 */

export const LogRefusalReasons = {
  /** `level` is not one of trace, debug, info, warn, error, fatal. */
  BAD_LEVEL: 'bad_level',
  /** `message` is not a string, or longer than MAX_MESSAGE_CHARS. */
  BAD_MESSAGE: 'bad_message',
  /** `fields` is not a JSON object. */
  BAD_FIELDS: 'bad_fields',
  /** `fields` is larger, as JSON, than the hub accepts (`logs.maxFieldsBytes`). */
  FIELDS_TOO_LARGE: 'fields_too_large',
  /** `ts` is not an integer number of milliseconds. */
  BAD_TIMESTAMP: 'bad_timestamp',
  /** `ts` is further ahead of the hub's clock than the allowed skew. */
  TS_IN_FUTURE: 'ts_in_future',
  /** `ts` is older than the retention: it would be deleted at once. */
  TS_TOO_OLD: 'ts_too_old',
  /** The log queue is full: the line was not queued; the device may send it again later. */
  OVERLOADED: 'overloaded',
  /** The hub is shutting down. */
  SHUTTING_DOWN: 'shutting_down',
  /** Storage failed to write the batch the line was in. */
  WRITE_FAILED: 'write_failed',
} as const;
export type LogRefusalReason = (typeof LogRefusalReasons)[keyof typeof LogRefusalReasons];

/** The protocol's limit on `message` (LogPayload); the ingest checks it for callers that skip the schema. */
export const MAX_MESSAGE_CHARS = 16_384;

/** A line as a transport received it (values not yet trusted beyond the frame schema). */
export interface LogLineInput {
  ts: number;
  level: unknown;
  message: unknown;
  fields?: unknown;
}

export interface LogLimits {
  now: number;
  maxFutureMs: number;
  /** Oldest acceptable `ts` is `now - maxPastMs` (the retention). */
  maxPastMs: number;
  maxFieldsBytes: number;
}

export type Checked = { ok: true; line: NewLogLine } | { ok: false; reason: LogRefusalReason; message: string };

function refuse(reason: LogRefusalReason, message: string): Checked {
  return { ok: false, reason, message };
}

export function checkLogLine(device: string, input: LogLineInput, limits: LogLimits): Checked {
  const { level, message, fields, ts } = input;
  if (!isLogLevel(level))
    return refuse(LogRefusalReasons.BAD_LEVEL, 'level must be trace, debug, info, warn, error or fatal');
  if (typeof message !== 'string' || message.length > MAX_MESSAGE_CHARS)
    return refuse(LogRefusalReasons.BAD_MESSAGE, `message must be a string of at most ${MAX_MESSAGE_CHARS} characters`);
  if (!Number.isSafeInteger(ts) || ts < 0)
    return refuse(LogRefusalReasons.BAD_TIMESTAMP, 'ts must be milliseconds since the epoch');
  if (ts > limits.now + limits.maxFutureMs)
    return refuse(LogRefusalReasons.TS_IN_FUTURE, `ts is more than ${limits.maxFutureMs} ms ahead of the hub's clock`);
  if (ts < limits.now - limits.maxPastMs)
    return refuse(LogRefusalReasons.TS_TOO_OLD, `ts is older than the log retention (${limits.maxPastMs} ms)`);
  let checkedFields: Record<string, unknown> | undefined;
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      return refuse(LogRefusalReasons.BAD_FIELDS, 'fields must be a JSON object');
    let json: string;
    try {
      json = JSON.stringify(fields);
    } catch {
      return refuse(LogRefusalReasons.BAD_FIELDS, 'fields cannot be serialised as JSON');
    }
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limits.maxFieldsBytes)
      return refuse(
        LogRefusalReasons.FIELDS_TOO_LARGE,
        `fields take ${bytes} bytes as JSON, more than the ${limits.maxFieldsBytes} the hub accepts`,
      );
    // An empty object says nothing: stored as no fields.
    if (json !== '{}') checkedFields = fields as Record<string, unknown>;
  }
  return {
    ok: true,
    line: { device, ts, level: LOG_LEVEL_VALUES[level], message, fields: checkedFields, received: limits.now },
  };
}
