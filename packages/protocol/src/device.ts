import { Type, type Static } from '@sinclair/typebox';
import { DeviceId, Labels } from './ids.js';

/**
 * The facts a device states about itself. Seed 002's robot state model is the checklist:
 * hardware, network, software (the "deployment" block there), capabilities.
 */
export const Hardware = Type.Object(
  {
    serial: Type.Optional(Type.String({ maxLength: 128 })),
    model: Type.Optional(Type.String({ maxLength: 128 })),
    revision: Type.Optional(Type.String({ maxLength: 64 })),
    arch: Type.Optional(Type.String({ maxLength: 32 })),
    cpus: Type.Optional(Type.Integer({ minimum: 0 })),
    memoryBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type Hardware = Static<typeof Hardware>;

export const Network = Type.Object(
  {
    hostname: Type.Optional(Type.String({ maxLength: 255 })),
    mac: Type.Optional(Type.String({ maxLength: 32 })),
    ips: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type Network = Static<typeof Network>;

export const InstalledPackage = Type.Object(
  { name: Type.String({ maxLength: 214 }), version: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const Software = Type.Object(
  {
    os: Type.Optional(Type.String({ maxLength: 128 })),
    osVersion: Type.Optional(Type.String({ maxLength: 128 })),
    agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
    packages: Type.Optional(Type.Array(InstalledPackage, { maxItems: 2048 })),
  },
  { additionalProperties: false },
);
export type Software = Static<typeof Software>;

/** A capability the device implements, with the HAL schema version (e.g. `hal.v1.battery`). */
export const Capability = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,127}$' }),
    version: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type Capability = Static<typeof Capability>;

/** Latest resource usage, projected from `system.*` telemetry. Percentages are 0..100. */
export const Resources = Type.Object(
  {
    cpu: Type.Optional(Type.Number()),
    memory: Type.Optional(Type.Number()),
    disk: Type.Optional(Type.Number()),
    temperature: Type.Optional(Type.Number()),
    load: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type Resources = Static<typeof Resources>;

export const Status = Type.Object(
  {
    online: Type.Boolean(),
    /** Last time any frame was received (ms since epoch), or null if never. */
    lastSeen: Type.Union([Type.Integer(), Type.Null()]),
    /** When the current (or last) session started. */
    connectedAt: Type.Union([Type.Integer(), Type.Null()]),
    /** Device uptime in seconds as last reported. */
    uptime: Type.Union([Type.Number(), Type.Null()]),
    /** Transport of the current (or last) session: `ws`, `mqtt`, `nats`. */
    transport: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type Status = Static<typeof Status>;

/** Who is teleoperating the device, as its agent's detector reports it (docs/teleoperation.md). */
export const Teleoperation = Type.Object(
  {
    active: Type.Boolean(),
    /** The operator, when an indicator knows one (a session's user, the peer of a stream, the sender of the commands). */
    operator: Type.Union([Type.String(), Type.Null()]),
    /** When the session started (ms), or null when inactive. */
    since: Type.Union([Type.Integer(), Type.Null()]),
    streams: Type.Array(Type.String()),
    /** The indicators that fired (`command_rate`, `operator_session`, a custom one's name). */
    indicators: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type Teleoperation = Static<typeof Teleoperation>;

/** A device as the registry projects it from the event log. */
export const Device = Type.Object(
  {
    id: DeviceId,
    name: Type.String(),
    type: Type.String(),
    model: Type.Union([Type.String(), Type.Null()]),
    labels: Labels,
    hardware: Hardware,
    network: Network,
    software: Software,
    capabilities: Type.Array(Capability),
    status: Status,
    resources: Resources,
    teleoperation: Teleoperation,
    registeredAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  { additionalProperties: false, $id: 'Device' },
);
export type Device = Static<typeof Device>;

/** Who caused an event: a user, an API token, a device, or the hub itself. */
export const EventMetadata = Type.Object(
  {
    actor: Type.String(),
    correlationId: Type.Union([Type.String(), Type.Null()]),
    causationId: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type EventMetadata = Static<typeof EventMetadata>;

/** One entry of the append-only event log. `position` is its global order: strictly increasing (gap-free on SQLite; PostgreSQL may skip numbers after a failed append). */
export const StoredEvent = Type.Object(
  {
    position: Type.Integer(),
    id: Type.String(),
    aggregateId: Type.String(),
    type: Type.String(),
    ts: Type.Integer(),
    data: Type.Record(Type.String(), Type.Unknown()),
    metadata: EventMetadata,
  },
  { additionalProperties: false, $id: 'Event' },
);
export type StoredEvent = Static<typeof StoredEvent>;

/** Event types of the device aggregate. Later issues add their own aggregates. */
export const DeviceEventTypes = {
  Registered: 'DeviceRegistered',
  Connected: 'DeviceConnected',
  Disconnected: 'DeviceDisconnected',
  Updated: 'DeviceUpdated',
  Decommissioned: 'DeviceDecommissioned',
  /** A device-originated event (`event` frame), kept in the log for the timeline. */
  Reported: 'DeviceReported',
  /** The device's agent detected a teleoperation session (its `teleoperation.started` event). */
  TeleoperationStarted: 'TeleoperationStarted',
  /** The session ended (`teleoperation.stopped`). */
  TeleoperationStopped: 'TeleoperationStopped',
} as const;
export type DeviceEventType = (typeof DeviceEventTypes)[keyof typeof DeviceEventTypes];
