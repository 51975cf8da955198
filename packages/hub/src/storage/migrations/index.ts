import type { Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';
import { events } from './0001_events.js';
import { snapshots } from './0002_snapshots.js';
import { identity } from './0003_identity.js';
import { deviceIdentity } from './0004_device_identity.js';
import { tls } from './0005_tls.js';
import { telemetry } from './0006_telemetry.js';
import { commands } from './0007_commands.js';
import { jobs } from './0008_jobs.js';
import { alerts } from './0009_alerts.js';
import { logs } from './0010_logs.js';
import { telemetrySeries } from './0011_telemetry_series.js';
import { reports } from './0012_reports.js';
import { telemetryFrames } from './0016_telemetry_frames.js';
import { fleetHealth } from './0017_fleet_health.js';

/**
 * Every migration, applied in name order at open on both engines. A later issue adds its own
 * file here with the next number; a migration that has shipped is never edited or renamed (the
 * database records applied names, and a hub refuses a database with names it does not know).
 * A migration spells engine-specific types only through SchemaDialect.
 */
export const migrations: Readonly<Record<string, (schema: SchemaDialect) => Migration>> = {
  '0001_events': events,
  '0002_snapshots': snapshots,
  '0003_identity': identity,
  '0004_device_identity': deviceIdentity,
  '0005_tls': tls,
  '0006_telemetry': telemetry,
  '0007_commands': commands,
  '0008_jobs': jobs,
  '0009_alerts': alerts,
  '0010_logs': logs,
  '0011_telemetry_series': telemetrySeries,
  '0012_reports': reports,
  '0016_telemetry_frames': telemetryFrames,
  '0017_fleet_health': fleetHealth,
};
