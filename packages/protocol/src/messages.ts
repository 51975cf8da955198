import { Type, type Static, type TSchema, type TLiteral, type TObject } from '@sinclair/typebox';
import { Capability, Hardware, Network, Software, Resources } from './device.js';
import { DeviceId, Labels } from './ids.js';

/** Version of the envelope. Bumped only for an incompatible change of the envelope itself. */
export const PROTOCOL_VERSION = 1;

/** Largest frame a transport accepts (bytes). Larger frames are refused by the transport. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export const MESSAGE_TYPES = [
  'hello',
  'welcome',
  'heartbeat',
  'telemetry',
  'event',
  'log',
  'command',
  'result',
  'progress',
  'cancel',
  'ack',
  'error',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Which side may send each message type. */
export const DEVICE_TO_HUB: readonly MessageType[] = [
  'hello',
  'heartbeat',
  'telemetry',
  'event',
  'log',
  'result',
  'progress',
  'error',
];
export const HUB_TO_DEVICE: readonly MessageType[] = ['welcome', 'command', 'cancel', 'ack', 'error'];

const metricName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' });

// ---- payloads -------------------------------------------------------------------------------

export const HelloPayload = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 128 })),
    type: Type.Optional(Type.String({ maxLength: 64 })),
    model: Type.Optional(Type.String({ maxLength: 128 })),
    labels: Type.Optional(Labels),
    hardware: Type.Optional(Hardware),
    network: Type.Optional(Network),
    software: Type.Optional(Software),
    capabilities: Type.Optional(Type.Array(Capability, { maxItems: 256 })),
    /** Seconds since the device booted. */
    uptime: Type.Optional(Type.Number({ minimum: 0 })),
    /** Credential or enrollment token (identity issue); never logged. */
    token: Type.Optional(Type.String({ maxLength: 4096 })),
    /**
     * A PKCS#10 certificate signing request (PEM) for the device's own key: when the hello's token
     * is accepted, a hub serving TLS answers with a client certificate in `welcome`.
     */
    csr: Type.Optional(
      Type.String({
        maxLength: 8192,
        pattern: '^-----BEGIN CERTIFICATE REQUEST-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE REQUEST-----\\s*$',
      }),
    ),
    resources: Type.Optional(Resources),
  },
  { additionalProperties: false },
);

export const WelcomePayload = Type.Object(
  {
    /** How often the device must send a heartbeat. Offline after 3 missed intervals. */
    heartbeatIntervalMs: Type.Integer({ minimum: 100 }),
    hubVersion: Type.String(),
    sessionId: Type.String(),
    /** Hub clock, so devices can estimate skew. */
    serverTime: Type.Integer(),
    /**
     * The device's own secret (`fld_…`), sent once: in the welcome that answers a hello which
     * enrolled with an enrollment token. The device keeps it and presents it as `token` from then on.
     */
    credential: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /**
     * The client certificate (PEM) the hub issued for the `csr` in `hello`: CN = the device id,
     * signed by the hub CA. The device presents it on its next TLS connections.
     */
    certificate: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
    /** The CA certificate(s) (PEM) that the hub's server certificate chains to; the device verifies the hub with it from then on. */
    ca: Type.Optional(Type.String({ minLength: 1, maxLength: 65536 })),
  },
  { additionalProperties: false },
);

export const HeartbeatPayload = Type.Object(
  { uptime: Type.Optional(Type.Number({ minimum: 0 })) },
  { additionalProperties: false },
);

const telemetryMetrics = Type.Record(metricName, Type.Number(), { maxProperties: 1024, additionalProperties: false });
const telemetrySamples = Type.Record(metricName, Type.Unknown(), { maxProperties: 256, additionalProperties: false });
/**
 * The device's durable telemetry number: per device, not per session (the envelope's `seq` is),
 * so it survives reconnects and agent restarts. Increasing in the order the device sends; gaps
 * are allowed. The hub stores a numbered message once per (device, seq) and acknowledges it
 * (`ack {of: 'telemetry'}`) after the durable write (docs/protocol.md, "Durable telemetry").
 */
const telemetrySeq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** Most records one telemetry frame may carry (a replay packs many per frame). */
export const MAX_TELEMETRY_RECORDS = 1000;

/** One buffered telemetry message inside a `records` frame: its own number and time. */
export const TelemetryRecord = Type.Object(
  {
    seq: telemetrySeq,
    /** Device clock when the values were taken (ms), kept through buffering and replay. */
    ts: Type.Integer({ minimum: 0 }),
    metrics: telemetryMetrics,
    samples: Type.Optional(telemetrySamples),
  },
  { additionalProperties: false },
);

export const TelemetryPayload = Type.Union([
  /** One message, at the envelope's `ts`; `seq` makes it durable (dedup and ack). */
  Type.Object(
    {
      /** Numeric points, by metric name, all at the envelope's `ts`. */
      metrics: telemetryMetrics,
      /** Structured samples (pose, servo arrays), by name. */
      samples: Type.Optional(telemetrySamples),
      seq: Type.Optional(telemetrySeq),
    },
    { additionalProperties: false },
  ),
  /** Several numbered messages, oldest first, each at its own `ts` (a buffer's replay). */
  Type.Object(
    { records: Type.Array(TelemetryRecord, { minItems: 1, maxItems: MAX_TELEMETRY_RECORDS }) },
    { additionalProperties: false },
  ),
]);

/** Most refusals one telemetry ack reports; more make more acks. */
export const MAX_ACK_REFUSALS = 256;

export const EventPayload = Type.Object(
  {
    type: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' }),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
/** pino's numbers for the levels, so lines from devices, agents and the hub sort and filter alike. */
export const LOG_LEVEL_VALUES = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** The level of a pino number (rounded down to the nearest level; below trace is trace). */
export function logLevelName(value: number): (typeof LOG_LEVELS)[number] {
  let name: (typeof LOG_LEVELS)[number] = 'trace';
  for (const level of LOG_LEVELS) if (value >= LOG_LEVEL_VALUES[level]) name = level;
  return name;
}

export function isLogLevel(value: unknown): value is (typeof LOG_LEVELS)[number] {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
export const LogPayload = Type.Object(
  {
    level: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
    message: Type.String({ maxLength: 16384 }),
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const CommandPayload = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    capability: Type.String({ maxLength: 128 }),
    command: Type.String({ maxLength: 128 }),
    args: Type.Record(Type.String(), Type.Unknown()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Critical commands (estop) jump every queue. */
    priority: Type.Optional(Type.Union([Type.Literal('critical'), Type.Literal('normal')])),
  },
  { additionalProperties: false },
);

export const COMMAND_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export const ResultPayload = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    status: Type.Union(COMMAND_STATUSES.map((s) => Type.Literal(s))),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  { additionalProperties: false },
);

/** How far a long-running command (a job) has got; sent by the device as often as it likes. */
export const ProgressPayload = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    /** 0 … 1. */
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    message: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

/** Asks the device to stop a running command; it answers with a `result` of status `cancelled` (or its real outcome, if it was faster). */
export const CancelPayload = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const AckPayload = Type.Object(
  {
    /** Type of the acknowledged message. */
    of: Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t))),
    /**
     * Sequence number acknowledged: the envelope's for a heartbeat; for telemetry the durable
     * telemetry `seq`, cumulatively: every numbered message of this session up to and including
     * this one is stored, or refused for good (listed in `refused`).
     */
    seq: Type.Integer({ minimum: 0 }),
    /**
     * Telemetry only: what of the acknowledged messages was not stored and why (`name`: the one
     * value refused; absent: the whole message). Refused data cannot succeed if sent again.
     */
    refused: Type.Optional(
      Type.Array(
        Type.Object(
          {
            seq: Type.Integer({ minimum: 0 }),
            reason: Type.String({ maxLength: 64 }),
            name: Type.Optional(Type.String({ maxLength: 128 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: MAX_ACK_REFUSALS },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ErrorPayload = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    /** The offending frame's type and seq, when they could be read. */
    ref: Type.Optional(
      Type.Object(
        { type: Type.Optional(Type.String()), seq: Type.Optional(Type.Integer()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

// ---- envelope ------------------------------------------------------------------------------

function envelope<T extends MessageType, P extends TSchema>(
  type: T,
  payload: P,
): TObject<{
  v: TLiteral<1>;
  type: TLiteral<T>;
  device: typeof DeviceId;
  seq: ReturnType<typeof Type.Integer>;
  ts: ReturnType<typeof Type.Integer>;
  payload: P;
}> {
  return Type.Object(
    {
      v: Type.Literal(PROTOCOL_VERSION),
      type: Type.Literal(type),
      device: DeviceId,
      seq: Type.Integer({ minimum: 0 }),
      ts: Type.Integer({ minimum: 0 }),
      payload,
    },
    { additionalProperties: false, $id: `${type}Message` },
  );
}

export const HelloMessage = envelope('hello', HelloPayload);
export const WelcomeMessage = envelope('welcome', WelcomePayload);
export const HeartbeatMessage = envelope('heartbeat', HeartbeatPayload);
export const TelemetryMessage = envelope('telemetry', TelemetryPayload);
export const EventMessage = envelope('event', EventPayload);
export const LogMessage = envelope('log', LogPayload);
export const CommandMessage = envelope('command', CommandPayload);
export const ResultMessage = envelope('result', ResultPayload);
export const ProgressMessage = envelope('progress', ProgressPayload);
export const CancelMessage = envelope('cancel', CancelPayload);
export const AckMessage = envelope('ack', AckPayload);
export const ErrorMessage = envelope('error', ErrorPayload);

export const MessageSchemas = {
  hello: HelloMessage,
  welcome: WelcomeMessage,
  heartbeat: HeartbeatMessage,
  telemetry: TelemetryMessage,
  event: EventMessage,
  log: LogMessage,
  command: CommandMessage,
  result: ResultMessage,
  progress: ProgressMessage,
  cancel: CancelMessage,
  ack: AckMessage,
  error: ErrorMessage,
} as const satisfies Record<MessageType, TSchema>;

export type HelloMessage = Static<typeof HelloMessage>;
export type WelcomeMessage = Static<typeof WelcomeMessage>;
export type HeartbeatMessage = Static<typeof HeartbeatMessage>;
export type TelemetryMessage = Static<typeof TelemetryMessage>;
export type EventMessage = Static<typeof EventMessage>;
export type LogMessage = Static<typeof LogMessage>;
export type CommandMessage = Static<typeof CommandMessage>;
export type ResultMessage = Static<typeof ResultMessage>;
export type ProgressMessage = Static<typeof ProgressMessage>;
export type CancelMessage = Static<typeof CancelMessage>;
export type AckMessage = Static<typeof AckMessage>;
export type ErrorMessage = Static<typeof ErrorMessage>;

export type Message =
  | HelloMessage
  | WelcomeMessage
  | HeartbeatMessage
  | TelemetryMessage
  | EventMessage
  | LogMessage
  | CommandMessage
  | ResultMessage
  | ProgressMessage
  | CancelMessage
  | AckMessage
  | ErrorMessage;

export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;
export type PayloadOf<T extends MessageType> = MessageOf<T>['payload'];

export type HelloPayload = Static<typeof HelloPayload>;
export type WelcomePayload = Static<typeof WelcomePayload>;
export type TelemetryPayload = Static<typeof TelemetryPayload>;
export type TelemetryRecord = Static<typeof TelemetryRecord>;
export type AckPayload = Static<typeof AckPayload>;
export type CommandPayload = Static<typeof CommandPayload>;
export type ResultPayload = Static<typeof ResultPayload>;
export type ProgressPayload = Static<typeof ProgressPayload>;
export type CancelPayload = Static<typeof CancelPayload>;
export type ErrorPayload = Static<typeof ErrorPayload>;
export type LogLevel = (typeof LOG_LEVELS)[number];
