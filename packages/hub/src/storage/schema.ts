import type { Generated } from 'kysely';

/**
 * Row types of the tables, as the shared query code sees them on both engines: JSON columns
 * travel as text (each engine module makes its driver hand JSON back unparsed) and bigint
 * columns as numbers (the PostgreSQL module parses int8; SQLite returns numbers already).
 */
export interface EventsTable {
  position: Generated<number>;
  id: string;
  aggregate_id: string;
  type: string;
  ts: number;
  data: string;
  actor: string;
  correlation_id: string | null;
  causation_id: string | null;
}

export interface SnapshotsTable {
  name: string;
  position: number;
  ts: number;
  state: string;
}

export interface UsersTable {
  id: string;
  username: string;
  role: string;
  password_hash: string;
  /** 0 or 1: SQLite has no boolean type. */
  disabled: number;
  created_at: number;
  updated_at: number;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  role: string;
  owner_id: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface RefreshSessionsTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface RevokedAccessTokensTable {
  jti: string;
  expires_at: number;
}

export interface HubSecretsTable {
  name: string;
  value: string;
}

export interface EnrollmentTokensTable {
  id: string;
  token_hash: string;
  /** Null: unlimited. */
  uses_allowed: number | null;
  uses: Generated<number>;
  expires_at: number | null;
  labels: string;
  created_by: string;
  revoked_at: number | null;
  created: number;
}

export interface DeviceCredentialsTable {
  device_id: string;
  secret_hash: string;
  created: number;
  revoked_at: number | null;
  enrolled_with: string | null;
}

export interface HubCaTable {
  name: string;
  certificate: string;
  private_key: string;
  created: number;
}

export interface DeviceCertificatesTable {
  serial: string;
  device_id: string;
  fingerprint: string;
  not_after: number;
  created: number;
  revoked_at: number | null;
}

export interface CommandsTable {
  id: string;
  device_id: string;
  capability: string;
  command: string;
  args: string;
  priority: string;
  status: string;
  result: string | null;
  error: string | null;
  timeout_ms: number;
  actor: string;
  issued_at: number;
  delivered_at: number | null;
  completed_at: number | null;
  deadline: number;
  job: Generated<number>;
  progress: number | null;
  progress_message: string | null;
}

/** Migration 0011: one row per (device, metric) with its id and newest point as last written. */
export interface TelemetrySeriesTable {
  id: Generated<number>;
  device: string;
  metric: string;
  ts: number;
  value: number;
}

export interface TelemetryValuesTable {
  series_id: number;
  ts: number;
  value: number;
}

/** SQLite only (migration 0016): one row per stored message; `data` packs its points (telemetry-frames.ts). */
export interface TelemetryFramesTable {
  device: string;
  ts: number;
  data: Uint8Array;
}

export interface TelemetrySamplesTable {
  device: string;
  name: string;
  ts: number;
  data: string;
}

export interface TelemetrySeenTable {
  device: string;
  seq: number;
  ts: number;
}

export interface TelemetryDirtyTable {
  device: string;
  bucket: number;
  version: number;
  claimed: number | null;
}

export interface TelemetryRollupTable {
  device: string;
  metric: string;
  bucket: number;
  min_value: number;
  max_value: number;
  total: number;
  n: number;
  last_ts: number;
  last_value: number;
}

export interface TelemetrySettingsTable {
  name: string;
  value: string;
}

export interface ReportsTable {
  id: string;
  scope: string;
  range_from: number;
  range_to: number;
  request: string;
  status: string;
  error: string | null;
  statistics: string | null;
  summary: string | null;
  created_by: string;
  created_at: number;
  completed_at: number | null;
}

export interface LogsTable {
  id: Generated<number>;
  device: string;
  ts: number;
  level: number;
  message: string;
  fields: string | null;
  received: number;
}

export interface AlertRulesTable {
  id: string;
  name: string;
  definition: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface AlertsTable {
  id: string;
  rule_id: string;
  rule_name: string;
  device_id: string;
  severity: string;
  status: string;
  summary: string;
  details: string;
  started_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
}

export interface AlertDeliveriesTable {
  id: string;
  alert_id: string;
  rule_id: string;
  url: string;
  event: string;
  payload: string;
  status: string;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  created_at: number;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  delivered_at: number | null;
}

export interface FleetHealthTable {
  ts: number;
  online: number;
  offline: number;
  alerting: number;
}

export interface Database {
  events: EventsTable;
  snapshots: SnapshotsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  refresh_sessions: RefreshSessionsTable;
  revoked_access_tokens: RevokedAccessTokensTable;
  hub_secrets: HubSecretsTable;
  enrollment_tokens: EnrollmentTokensTable;
  device_credentials: DeviceCredentialsTable;
  hub_ca: HubCaTable;
  device_certificates: DeviceCertificatesTable;
  commands: CommandsTable;
  telemetry_series: TelemetrySeriesTable;
  telemetry_values: TelemetryValuesTable;
  telemetry_frames: TelemetryFramesTable;
  telemetry_samples: TelemetrySamplesTable;
  telemetry_seen: TelemetrySeenTable;
  telemetry_dirty: TelemetryDirtyTable;
  telemetry_rollup_1m: TelemetryRollupTable;
  telemetry_rollup_1h: TelemetryRollupTable;
  telemetry_settings: TelemetrySettingsTable;
  reports: ReportsTable;
  logs: LogsTable;
  alert_rules: AlertRulesTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  fleet_health: FleetHealthTable;
}
