import type { CapabilityDocument, Device, StoredEvent } from '@flotilla/protocol';

/** One page of a list endpoint. `nextCursor` is opaque; null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters of `GET /api/v1/devices`. Every field is optional; all given ones must hold. */
export interface DeviceFilter {
  online?: boolean;
  type?: string;
  /** Only devices that are (true) or are not (false) being teleoperated now. */
  teleoperated?: boolean;
  /**
   * Label selectors (`site=lab`, `zone in (a,b)`, `!gpu`, comma-separated). Several selectors
   * are sent as repeated `label` parameters and must all hold.
   */
  label?: string | readonly string[];
  /** Case-insensitive substring of id, name, hostname, serial or model. */
  q?: string;
  /** Page size, 1..1000 (hub default 100). */
  limit?: number;
  cursor?: string;
}

/** A time bound: a Date, milliseconds since the epoch, or an ISO 8601 string. */
export type TimeBound = Date | number | string;

/** Filters of `GET /api/v1/events`. */
export interface EventFilter {
  device?: string;
  /** One event type or several (any of them). */
  type?: string | readonly string[];
  since?: TimeBound;
  until?: TimeBound;
  actor?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

/** Body of `PATCH /api/v1/devices/{id}`. A label set to null is removed; others are merged. */
export interface DevicePatch {
  name?: string;
  labels?: Record<string, string | null>;
}

export interface Health {
  status: 'ok';
  version: string;
  /** Seconds since the hub started. */
  uptime: number;
}

/** Readiness is a status, not an exception: a hub whose storage is down answers `ready: false`. */
export type Readiness = { ready: true } | { ready: false; code: string; message: string };

/** What `POST /api/v1/auth/login` and `/auth/refresh` answer. */
export interface LoginResult {
  /** JWT access token, sent as `Authorization: Bearer`. */
  token: string;
  /** Opaque; exchange at `/api/v1/auth/refresh` for a new pair. */
  refreshToken: string;
  /** Seconds until `token` expires. */
  expiresIn: number;
  user: User;
}

export interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What `GET /api/v1/auth/me` answers. */
export interface Me {
  user: User;
  /** `user:<username>` or `token:<id>`, as in event metadata. */
  actor: string;
  /** The role this token acts with (an API token's may be below its owner's). */
  role: string;
  /** What that role may do (`commands:send`, `alerts:ack`…; docs/security.md). */
  permissions: string[];
}

/** Body of `POST /api/v1/enrollment-tokens`. */
export interface EnrollmentTokenRequest {
  /** Devices that may enroll with it; absent or null: unlimited. */
  uses?: number | null;
  /** Lifetime in seconds; absent or null: never expires. */
  expiresIn?: number | null;
  /** Applied to every device that enrolls with it. */
  labels?: Record<string, string>;
}

/** An enrollment token as the hub lists it (never its secret). */
export interface EnrollmentTokenInfo {
  id: string;
  uses: number | null;
  used: number;
  /** Epoch ms; null: never. */
  expiresAt: number | null;
  labels: Record<string, string>;
  createdBy: string;
  created: number;
  revokedAt: number | null;
}

/** What `POST /api/v1/enrollment-tokens` answers: the token (`fle_…`) is in this answer only. */
export interface CreatedEnrollmentToken extends EnrollmentTokenInfo {
  token: string;
}

/** Per-call options. */
/** A command for a device: a HAL capability's command with its arguments (docs/hal.md). */
export interface CommandRequest {
  capability: string;
  command: string;
  args?: Record<string, unknown>;
  /** How long the device has to answer (ms, default 30000). */
  timeoutMs?: number;
}

export type CommandStatus = 'issued' | 'delivered' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled';

/** A command's record on the hub (docs/commands.md). */
/** A device seen on the network over mDNS that the hub has not enrolled (`GET /api/v1/discovered`). */
export interface DiscoveredDevice {
  id: string;
  type: string | null;
  enrollment: 'unenrolled' | 'enrolled';
  agentVersion: string;
  host: string;
  addresses: string[];
  firstSeen: number;
  lastSeen: number;
}

export interface DiscoveredDevices {
  items: DiscoveredDevice[];
  /** False when the hub runs with `--mdns off` (or mDNS is unavailable there). */
  browsing: boolean;
}

export interface CommandRecord {
  id: string;
  device: string;
  /** As sent: a v1 request to a v2-only device is upcast. */
  capability: string;
  command: string;
  args: Record<string, unknown>;
  priority: 'critical' | 'normal';
  status: CommandStatus;
  result?: unknown;
  error?: { code: string; message: string };
  timeoutMs: number;
  actor: string;
  issuedAt: number;
  deliveredAt: number | null;
  completedAt: number | null;
  /** Long-running: reports progress and can be cancelled. */
  job: boolean;
  /** 0 … 1 as last reported; null before the first report. */
  progress: number | null;
  progressMessage: string | null;
}

/** One device's part of a broadcast: its command, or why it got none. */
export interface BroadcastItem {
  device: string;
  command?: CommandRecord;
  error?: { code: string; message: string };
}

export interface SendOptions extends RequestOptions {
  /** Answer once the command is on its way (status `delivered`) instead of waiting for its result. */
  async?: boolean;
}

/** What `telemetry()` asks for: one metric of one device over a range, raw or in buckets. */
export interface TelemetryQuery {
  metric: string;
  /** Inclusive start (default: an hour before `to`). */
  from?: TimeBound;
  /** Exclusive end (default: now). */
  to?: TimeBound;
  /** Bucket width (`10s`, `5m`, `1h`); absent: raw points. */
  bucket?: string;
  agg?: 'avg' | 'min' | 'max' | 'last' | 'count';
  /** Raw points at most. */
  limit?: number;
}

export interface TelemetrySeries {
  device: string;
  metric: string;
  from: number;
  to: number;
  /** Where the values came from: raw points or a rollup. */
  source: string;
  bucketMs: number | null;
  agg: string | null;
  points: Array<{ ts: number; value: number }>;
  truncated: boolean;
}

/** What `latestTelemetry()` answers: the newest point of every metric, by name. */
export interface LatestTelemetry {
  device: string;
  metrics: Record<string, { ts: number; value: number }>;
}

export interface SampleQuery {
  /** The sample name (`pose`, `servos`). */
  name: string;
  from?: TimeBound;
  to?: TimeBound;
  limit?: number;
}

export interface SampleSeries {
  device: string;
  name: string;
  from: number;
  to: number;
  samples: Array<{ ts: number; data: unknown }>;
  truncated: boolean;
}

export interface FleetTelemetryQuery {
  metric: string;
  /** Label selector; absent: every device. */
  selector?: string;
  /** Device type. */
  type?: string;
  from?: TimeBound;
  to?: TimeBound;
  /** Bucket width (default `5m`). */
  bucket?: string;
  agg?: 'avg' | 'min' | 'max' | 'last' | 'count';
}

export interface FleetTelemetrySeries {
  selector: string;
  metric: string;
  from: number;
  to: number;
  source: string;
  bucketMs: number;
  agg: string;
  /** Devices matching the selector and type. */
  devices: number;
  /** One per bucket with points; `devices`: how many had points in it. */
  points: Array<{ ts: number; value: number; devices: number }>;
}

/** Range of `GET /api/v1/fleet/health`: by default the last hour. */
export interface FleetHealthQuery {
  from?: TimeBound;
  to?: TimeBound;
  /** The newest samples of the range, at most this many (default 5000). */
  limit?: number;
}

/** The fleet's counts as the hub sampled them (one sample per `intervalMs`). */
export interface FleetHealthSample {
  ts: number;
  online: number;
  offline: number;
  /** Devices with an open (firing or acknowledged) alert. */
  alerting: number;
}

export interface FleetHealth {
  from: number;
  to: number;
  intervalMs: number;
  /** Oldest first. */
  points: FleetHealthSample[];
  /** Older samples than the first lie in the range. */
  truncated: boolean;
}

/** A device log line as the hub stored it (`GET /api/v1/logs`, and live on `flotilla.<id>.log`). */
export interface LogLine {
  /** The order the hub stored the line in; the same in listings and live. */
  id: number;
  device: string;
  /** The device's clock (ms). */
  ts: number;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  message: string;
  fields?: Record<string, unknown>;
  /** The hub's clock when the line arrived (ms). */
  received: number;
}

/** Filters of `GET /api/v1/logs` (and, without the device ones, of a device's logs). */
export interface LogFilter {
  /** Only these devices (fleet listing). */
  device?: string | readonly string[];
  /** Label selector (fleet listing). */
  selector?: string;
  /** Device type (fleet listing). */
  type?: string;
  /** Minimum level: `warn` gives warn, error and fatal. */
  level?: LogLine['level'];
  /** Case-insensitive text the message contains. */
  text?: string;
  since?: TimeBound;
  until?: TimeBound;
  /** By stored order; the hub's default is `desc` (newest first). */
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** A HAL capability (`GET /api/v1/schemas`; docs/hal.md): commands with argument schemas, metrics, samples. */
export type Capability = CapabilityDocument;

export type { Device, StoredEvent };
