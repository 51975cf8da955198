import { ErrorCodes, ProtocolError } from './errors.js';
import { isDeviceId } from './ids.js';

/**
 * The subject space: `flotilla.<deviceId>.<kind>[.<name>...]`. NATS uses subjects as they are;
 * MQTT replaces `.` by `/` (as NATS's own MQTT gateway does), so a device id never contains
 * either separator.
 */
export const SUBJECT_ROOT = 'flotilla';
export const SUBJECT_KINDS = ['telemetry', 'status', 'event', 'log', 'cmd', 'result', 'app'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

const tokenRe = /^[A-Za-z0-9_:-][A-Za-z0-9_:-]*$/;
const MAX_SUBJECT_LENGTH = 512;

export interface ParsedSubject {
  device: string;
  kind: SubjectKind;
  /** Tokens after the kind (`['battery']` for `flotilla.r1.telemetry.battery`). */
  names: string[];
}

export function subject(device: string, kind: SubjectKind, ...names: string[]): string {
  if (!isDeviceId(device))
    throw new ProtocolError(ErrorCodes.BAD_SUBJECT, `invalid device id: ${JSON.stringify(device)}`);
  for (const n of names) {
    if (!tokenRe.test(n))
      throw new ProtocolError(ErrorCodes.BAD_SUBJECT, `invalid subject token: ${JSON.stringify(n)}`);
  }
  return [SUBJECT_ROOT, device, kind, ...names].join('.');
}

/** Parses a concrete subject (no wildcards). Returns undefined when it is not a Flotilla subject. */
export function parseSubject(value: string): ParsedSubject | undefined {
  if (value.length > MAX_SUBJECT_LENGTH) return undefined;
  const tokens = value.split('.');
  if (tokens.length < 3 || tokens[0] !== SUBJECT_ROOT) return undefined;
  const [, device, kind, ...names] = tokens;
  if (!isDeviceId(device) || !(SUBJECT_KINDS as readonly string[]).includes(kind ?? '')) return undefined;
  if (!names.every((n) => tokenRe.test(n))) return undefined;
  return { device: device as string, kind: kind as SubjectKind, names };
}

/**
 * Checks a subscription pattern: tokens separated by `.`, `*` matches one token, `>` matches one
 * or more trailing tokens and must be last (NATS semantics). Returns an error message or undefined.
 */
export function validatePattern(pattern: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'pattern is empty';
  if (pattern.length > MAX_SUBJECT_LENGTH) return `pattern longer than ${MAX_SUBJECT_LENGTH} characters`;
  const tokens = pattern.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t === '>') {
      if (i !== tokens.length - 1) return "'>' must be the last token";
      continue;
    }
    if (t === '*') continue;
    if (!tokenRe.test(t)) return `invalid token ${JSON.stringify(t)} in pattern`;
  }
  return undefined;
}

/** True when `value` (a concrete subject) matches `pattern`. */
export function matchSubject(pattern: string, value: string): boolean {
  const p = pattern.split('.');
  const s = value.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}

/** `flotilla.r1.telemetry.battery` → `flotilla/r1/telemetry/battery`; wildcards map to `+`/`#`. */
export function toMqttTopic(value: string): string {
  return value
    .split('.')
    .map((t) => (t === '*' ? '+' : t === '>' ? '#' : t))
    .join('/');
}

/** `flotilla/r1/telemetry/battery` → `flotilla.r1.telemetry.battery`. Undefined if a token holds a `.`. */
export function fromMqttTopic(topic: string): string | undefined {
  const tokens = topic.split('/');
  if (tokens.some((t) => t.includes('.'))) return undefined;
  return tokens.map((t) => (t === '+' ? '*' : t === '#' ? '>' : t)).join('.');
}
