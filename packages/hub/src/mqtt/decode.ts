import { Type } from '@sinclair/typebox';
import {
  Capability,
  PROTOCOL_VERSION,
  ErrorCodes,
  compileSchema,
  type ErrorCode,
  type HelloPayload,
  type MessageType,
} from '@flotilla/protocol';
import type { DeviceTopic } from './topics.js';

/**
 * From an MQTT publish to the protocol frame the session checks (docs/mqtt.md, "Topics"). The
 * payload is mapped, never trusted: the frame goes through DeviceSession.receive like a
 * WebSocket frame, so the same validators, counters and error codes apply (a payload that is not
 * JSON becomes `bad_json`, a telemetry value that is not a number `bad_frame` naming the path).
 */
export type Decoded =
  /** Feed to DeviceSession.receive. */
  | { frame: string | Uint8Array }
  /** The device says it is going away (`offline` on its status topic). */
  | { offline: true }
  /** Not a frame at all: refused with this error. */
  | { error: { code: ErrorCode; message: string } }
  /** Nothing to do (an empty payload clearing a retained status). */
  | { ignore: true };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function frame(type: MessageType, device: string, seq: number, ts: unknown, payload: unknown): Decoded {
  return { frame: JSON.stringify({ v: PROTOCOL_VERSION, type, device, seq, ts, payload }) };
}

/** JSON, or undefined when the payload is not (the raw bytes then go to the session: `bad_json`). */
function json(payload: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(payload.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}

/** `seq` numbers the frames of the session; `now` is the ts of payloads without one. */
export function decodePublish(topic: DeviceTopic, payload: Buffer, seq: number, now: number): Decoded {
  const { device, kind, name } = topic;
  if (kind === 'status') return decodeStatus(device, payload, seq, now);
  if (kind === 'log') {
    const text = payload.toString('utf8');
    // A plain line of text is an `info` log; a JSON object is the protocol's log payload.
    if (!text.trimStart().startsWith('{')) return frame('log', device, seq, now, { level: 'info', message: text });
  }
  if (kind === 'event' && payload.length === 0) return frame('event', device, seq, now, { type: name });
  const parsed = json(payload);
  if (!parsed) return { frame: payload };
  const { value } = parsed;
  const ts = isObject(value) && value['ts'] !== undefined ? value['ts'] : now;
  switch (kind) {
    case 'telemetry':
      return frame('telemetry', device, seq, name === undefined ? ts : now, telemetry(value, name));
    case 'event':
      return frame('event', device, seq, now, { type: name, data: value });
    case 'log':
      return frame('log', device, seq, ts, isObject(value) ? withoutTs(value) : value);
    case 'result':
      return frame('result', device, seq, now, value);
    case 'progress':
      return frame('progress', device, seq, now, value);
  }
}

function withoutTs(value: Json): Json {
  const { ts: _ts, ...rest } = value;
  return rest;
}

/**
 * `telemetry/<metric>`: one number. `telemetry`: a JSON object of numbers (`{"battery":87.2}`,
 * optional `ts`), or the protocol's own payload (`{"metrics":{…},"samples":{…}}`).
 */
function telemetry(value: unknown, metric: string | undefined): unknown {
  if (metric !== undefined) return { metrics: { [metric]: value } };
  if (!isObject(value)) return { metrics: value };
  if (isObject(value['metrics'])) return withoutTs(value);
  return { metrics: withoutTs(value) };
}

const STATUS_HELP =
  'status must be "online", "offline" or a JSON object {"state": "online"|"offline", "uptime"?: seconds}';

/** `online` (or a JSON status) is a heartbeat; `offline` ends the session. */
function decodeStatus(device: string, payload: Buffer, seq: number, now: number): Decoded {
  if (payload.length === 0) return { ignore: true };
  const text = payload.toString('utf8').trim();
  if (text === 'online') return frame('heartbeat', device, seq, now, {});
  if (text === 'offline') return { offline: true };
  const parsed = json(payload);
  if (!parsed || !isObject(parsed.value)) return { error: { code: ErrorCodes.BAD_FRAME, message: STATUS_HELP } };
  const { state, uptime } = parsed.value;
  if (state === 'offline') return { offline: true };
  if (state !== undefined && state !== 'online') return { error: { code: ErrorCodes.BAD_FRAME, message: STATUS_HELP } };
  return frame('heartbeat', device, seq, now, uptime === undefined ? {} : { uptime });
}

/** The facts a last will may state, with the longest value `hello` accepts for each. */
const WILL_FACTS = { name: 128, type: 64, model: 128 } as const;
const validCapabilities = compileSchema<Capability[]>(Type.Array(Capability, { maxItems: 256 }));

export type WillFacts = Pick<HelloPayload, 'name' | 'type' | 'model' | 'capabilities'>;

/**
 * The facts an MQTT device states at CONNECT: a JSON last will on its status topic may name its
 * `name`, `type`, `model` and `capabilities` (`{"state":"offline","type":"esp32",
 * "capabilities":[{"name":"hal.v1.led","version":"1.0.0"}]}`), as a `hello` would; commands are
 * checked against the capabilities. Anything else, or a value `hello` would refuse, is left out:
 * the registry keeps what it knows, and a new device is `generic` with no capabilities.
 */
export function helloFacts(willPayload: Buffer | string | undefined): WillFacts {
  if (willPayload === undefined) return {};
  const parsed = json(Buffer.from(willPayload));
  if (!parsed || !isObject(parsed.value)) return {};
  const facts: WillFacts = {};
  for (const [key, max] of Object.entries(WILL_FACTS) as [keyof typeof WILL_FACTS, number][]) {
    const value = parsed.value[key];
    if (typeof value === 'string' && value.length <= max) facts[key] = value;
  }
  const capabilities = validCapabilities(parsed.value['capabilities']);
  if (capabilities.ok) facts.capabilities = capabilities.value;
  return facts;
}
