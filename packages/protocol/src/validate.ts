import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ClientFrame } from './client.js';
import { ErrorCodes, type ErrorCode } from './errors.js';
import {
  MessageSchemas,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  MAX_FRAME_BYTES,
  type Message,
  type MessageType,
} from './messages.js';
import type { ClientFrame as ClientFrameT } from './client.js';

/** The one Ajv instance of the protocol: every schema it compiles is checked with the same strict options. */
export const protocolAjv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

/**
 * Compiled validators for inbound frames. Ajv generates a function per schema, which is what
 * keeps validation cheap at thousands of frames per second; each is compiled on its first frame,
 * not at module load, so a process that never parses a `cancel` (or any frame: the CLI) does not
 * pay for it, and a hub's start does not wait for all of them.
 */
const messageValidators = new Map<MessageType, ValidateFunction>();
function messageValidator(type: MessageType): ValidateFunction {
  let validate = messageValidators.get(type);
  if (!validate) {
    validate = protocolAjv.compile(MessageSchemas[type]);
    messageValidators.set(type, validate);
  }
  return validate;
}
let clientFrameValidator: ValidateFunction | undefined;

export type ParseResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ErrorCode; message: string; ref?: { type?: string; seq?: number } } };

export function formatAjvError(errors: ErrorObject[] | null | undefined): string {
  // A union (the telemetry payload's two forms) reports every branch's first error: the deepest
  // one is from the branch the value was meant for ("/payload/records/0/ts", not "/payload").
  const e = errors?.length
    ? errors.reduce((best, next) => (next.instancePath.length > best.instancePath.length ? next : best))
    : undefined;
  if (!e) return 'invalid';
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties')
    return `${where} has unknown property '${String(e.params['additionalProperty'])}'`;
  if (e.keyword === 'const') return `${where} must be ${JSON.stringify(e.params['allowedValue'])}`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

function byteLength(raw: string | Uint8Array): number {
  return typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
}

/** Parses and validates one protocol frame (any direction). Never throws. */
export function parseFrame(raw: string | Uint8Array, maxBytes = MAX_FRAME_BYTES): ParseResult<Message> {
  if (byteLength(raw) > maxBytes) {
    return { ok: false, error: { code: ErrorCodes.FRAME_TOO_LARGE, message: `frame larger than ${maxBytes} bytes` } };
  }
  let value: unknown;
  try {
    value = JSON.parse(
      typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'),
    );
  } catch (err) {
    return { ok: false, error: { code: ErrorCodes.BAD_JSON, message: `frame is not JSON: ${(err as Error).message}` } };
  }
  return validateMessage(value);
}

/** Validates an already-parsed value as a protocol message. */
export function validateMessage(value: unknown): ParseResult<Message> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: { code: ErrorCodes.BAD_FRAME, message: 'frame must be a JSON object' } };
  }
  const obj = value as Record<string, unknown>;
  const ref: { type?: string; seq?: number } = {};
  if (typeof obj['type'] === 'string') ref.type = obj['type'];
  if (Number.isInteger(obj['seq'])) ref.seq = obj['seq'] as number;
  if (obj['v'] !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: { code: ErrorCodes.UNSUPPORTED_VERSION, message: `protocol version must be ${PROTOCOL_VERSION}`, ref },
    };
  }
  const type = obj['type'];
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      error: { code: ErrorCodes.UNKNOWN_TYPE, message: `unknown message type ${JSON.stringify(type ?? null)}`, ref },
    };
  }
  const validate = messageValidator(type as MessageType);
  if (!validate(value)) {
    return { ok: false, error: { code: ErrorCodes.BAD_FRAME, message: formatAjvError(validate.errors), ref } };
  }
  return { ok: true, value: value as Message };
}

/** Parses and validates a frame sent by a `/ws/client` client. Never throws. */
export function parseClientFrame(raw: string | Uint8Array, maxBytes = 64 * 1024): ParseResult<ClientFrameT> {
  if (byteLength(raw) > maxBytes) {
    return { ok: false, error: { code: ErrorCodes.FRAME_TOO_LARGE, message: `frame larger than ${maxBytes} bytes` } };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch (err) {
    return { ok: false, error: { code: ErrorCodes.BAD_JSON, message: `frame is not JSON: ${(err as Error).message}` } };
  }
  const validate = (clientFrameValidator ??= protocolAjv.compile(ClientFrame));
  if (!validate(value)) {
    return { ok: false, error: { code: ErrorCodes.BAD_FRAME, message: formatAjvError(validate.errors) } };
  }
  return { ok: true, value: value as ClientFrameT };
}

/** Compiles a validator for any TypeBox/JSON schema with the same Ajv settings. */
export function compileSchema<T>(schema: object): (value: unknown) => ParseResult<T> {
  const validate = protocolAjv.compile(schema);
  return (value: unknown) =>
    validate(value)
      ? { ok: true, value: value as T }
      : { ok: false, error: { code: ErrorCodes.BAD_FRAME, message: formatAjvError(validate.errors) } };
}
