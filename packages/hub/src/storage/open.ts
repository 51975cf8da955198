import type { EngineConnection } from './engine.js';
import { StorageClosedError } from './errors.js';
import { EventStore } from './event-store.js';
import { IdentityStore } from './identity.js';
import { DeviceIdentityStore } from './device-identity.js';
import { TlsStore } from './tls.js';
import { CommandStore } from './commands.js';
import { ReportStore } from './reports.js';
import { LogStore } from './logs.js';
import { AlertStore } from './alerts.js';
import { FleetHealthStore } from './fleet-health.js';
import { migrateToLatest } from './migrate.js';
import { openPostgres } from './postgres.js';
import { SnapshotStore } from './snapshots.js';
import { TelemetryStore } from './telemetry-store.js';
import { DEFAULT_DATA_DIR, openSqlite } from './sqlite.js';
import type { Engine, OpenStorageOptions, Snapshot, Storage } from './types.js';

/**
 * Opens the hub's storage: PostgreSQL when `databaseUrl` is set, else the embedded SQLite file
 * in `dataDir`, and migrates it to the latest schema. Fails fast with a StorageError
 * (data_dir_locked, data_dir_unwritable, database_unreachable, database_error).
 */
export async function openStorage(options: OpenStorageOptions = {}): Promise<Storage> {
  const engine = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options)
    : openSqlite(options.dataDir ?? DEFAULT_DATA_DIR);
  try {
    await migrateToLatest(engine.db, engine.schema);
  } catch (error) {
    await engine.close();
    throw error;
  }
  return new EngineStorage(engine);
}

class EngineStorage implements Storage {
  readonly engine: Engine;
  readonly location: string;
  readonly identity: IdentityStore;
  readonly deviceIdentity: DeviceIdentityStore;
  readonly tls: TlsStore;
  readonly commands: CommandStore;
  readonly telemetry: TelemetryStore;
  readonly reports: ReportStore;
  readonly logs: LogStore;
  readonly alerts: AlertStore;
  readonly fleetHealth: FleetHealthStore;
  readonly #connection: EngineConnection;
  readonly #events: EventStore;
  readonly #snapshots: SnapshotStore;
  #closing: Promise<void> | undefined;

  constructor(connection: EngineConnection) {
    this.engine = connection.engine;
    this.location = connection.location;
    this.#connection = connection;
    this.#events = new EventStore(connection);
    this.#snapshots = new SnapshotStore(connection);
    this.identity = new IdentityStore(connection);
    this.deviceIdentity = new DeviceIdentityStore(connection);
    this.tls = new TlsStore(connection);
    this.commands = new CommandStore(connection);
    this.telemetry = new TelemetryStore(connection);
    this.reports = new ReportStore(connection);
    this.logs = new LogStore(connection);
    this.alerts = new AlertStore(connection);
    this.fleetHealth = new FleetHealthStore(connection);
  }

  appendEvents: Storage['appendEvents'] = (events) => this.#open(() => this.#events.append(events));
  recordCommands: Storage['recordCommands'] = (rows, events) =>
    this.#open(() => this.#events.appendWith(events, (trx) => this.commands.write(trx, rows)));
  readEvents: Storage['readEvents'] = (query) => this.#open(() => this.#events.read(query));
  countEvents: Storage['countEvents'] = () => this.#open(() => this.#events.count());
  lastPosition: Storage['lastPosition'] = () => this.#open(() => this.#events.lastPosition());

  saveSnapshot<T>(snapshot: Snapshot<T>): Promise<void> {
    return this.#open(() => this.#snapshots.save(snapshot));
  }

  loadSnapshot<T>(name: string): Promise<Snapshot<T> | undefined> {
    return this.#open(() => this.#snapshots.load<T>(name));
  }

  async ping(): Promise<boolean> {
    if (this.#closing) return false;
    try {
      await this.#connection.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
      return true;
    } catch {
      return false;
    }
  }

  /** Lets appends already submitted finish, then releases the engine (and the data-dir lock). */
  close(): Promise<void> {
    this.#closing ??= this.#events.drain().then(() => this.#connection.close());
    return this.#closing;
  }

  #open<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StorageClosedError());
    return run();
  }
}
