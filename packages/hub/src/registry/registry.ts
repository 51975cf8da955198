import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import {
  DeviceEventTypes,
  systemClock,
  type Clock,
  type Device,
  type EventMetadata,
  type HelloPayload,
  type StoredEvent,
} from '@flotilla/protocol';
import type { Bus } from '../bus.js';
import type { DeviceCounts, HubMetrics } from '../metrics.js';
import type { NewEvent, Snapshot, Storage } from '../storage/types.js';
import { DeviceNotFoundError, LabelLimitError } from './errors.js';
import { effectiveLabelPatch, factsDiff, registrationData } from './facts.js';
import { OrderedAppender } from './ordered-appender.js';
import {
  DEVICE_EVENT_TYPES,
  DisconnectReasons,
  apply,
  patchLabels,
  type DeviceConnectedData,
  type DeviceDisconnectedData,
  type DeviceUpdatedData,
  type DisconnectReason,
} from './projection.js';
import { isCommandDriven, teleoperationEvent } from './teleoperation.js';
import { SortedIds, queryDevices, type DevicePage, type DeviceQuery } from './query.js';
import { applyLiveMetrics } from './live.js';
import { REGISTRY_SNAPSHOT, SNAPSHOT_VERSION, replay, type RegistrySnapshotState } from './replay.js';
import { KeyedSerial } from './serial.js';

export { REGISTRY_SNAPSHOT } from './replay.js';

/**
 * The device registry: the projection of the event log held in memory, and the only writer of
 * device events.
 *
 * Writes: every change is an event appended through the storage (see OrderedAppender), applied
 * to the projection once the append has resolved, then published on the bus
 * (`flotilla.<id>.event.<Type>` with the stored event, `flotilla.<id>.status` with the device).
 * Operations on one device run one after another, so each decides on the state its predecessor
 * left (a reconnect's facts diff, a disconnect checking that its session is still the live one).
 *
 * Live fields: `status.lastSeen`, `status.uptime` and `resources` change with every heartbeat
 * and `system.*` telemetry. They are set in memory without an event (10,000 devices heartbeating
 * would otherwise fill the log with noise) and reach storage through snapshots, taken every
 * `snapshotEvery` events and at close. They are not published on their own either: the next
 * status message carries them, and telemetry subscribers see the raw values.
 */

const noop = (): void => undefined;
/** Events read per query when folding what other hubs appended. */
const CATCH_UP_PAGE = 1000;
/** Labels a device may carry (the Labels schema's maxProperties). */
export const MAX_LABELS = 64;

export interface RegistryOptions {
  storage: Storage;
  bus: Bus;
  clock?: Clock;
  logger?: Logger;
  /** Events between snapshots (default 1000). */
  snapshotEvery?: number;
  metrics?: HubMetrics;
  /**
   * Who sent the device its latest commands (an actor such as `user:ana`): the operator of a
   * teleoperation session the device detected from its command rate without knowing who drives.
   */
  commandSender?: (device: string) => Promise<string | undefined>;
  /**
   * The event log is shared with other hubs (several hubs on NATS, one PostgreSQL): the registry
   * then also folds what the others append (`catchUp`), tells `ownership` which sessions it
   * holds, and leaves devices found online at start to the fleet's presence (they may well be
   * connected to another hub). docs/nats.md.
   */
  shared?: { ownership: DeviceOwnership };
}

/** Who holds each device's session across hubs (JetStream KV presence on NATS). */
export interface DeviceOwnership {
  /** Before DeviceConnected is written: this hub holds the session. */
  claim(id: string, sessionId: string, transport: string): Promise<void>;
  /** The session ended here (after DeviceDisconnected), or another hub took the device over. */
  release(id: string, sessionId: string): void;
}

/** A device's live session on this hub was taken over by a connection to another hub. */
export type TakeoverHook = (id: string, sessionId: string) => void;

export interface DevicePatch {
  name?: string | undefined;
  /** Merged into the labels; a null value removes that key. */
  labels?: Record<string, string | null> | undefined;
}

export interface ConnectRequest {
  id: string;
  hello: HelloPayload;
  sessionId: string;
  /** `ws` (later `mqtt`, `nats`). */
  transport: string;
  /**
   * Labels to add as the device connects (an enrollment token's), recorded as a DeviceUpdated by
   * `meta`'s actor in the same write as DeviceConnected, so nobody sees the device online without them.
   */
  labels?: { labels: Readonly<Record<string, string>>; meta: EventMetadata };
}

/** Asked to end a device's live session (it was decommissioned). Transports register one each. */
export type DisconnectHook = (id: string, reason: DisconnectReason) => void;

/** Metadata of events the hub causes on its own (timeouts, restarts). */
export const SYSTEM_ACTOR = 'system';
export function deviceActor(id: string): string {
  return `device:${id}`;
}

export class Registry {
  private readonly devices = new Map<string, Device>();
  private readonly ids = new SortedIds();
  /** Live session per device. Sessions do not survive a restart, so they are not in the projection. */
  private readonly sessions = new Map<string, string>();
  /** Operations on one device run one after another (see KeyedSerial). */
  private readonly serial = new KeyedSerial();
  private readonly hooks = new Set<DisconnectHook>();
  private readonly takeoverHooks = new Set<TakeoverHook>();
  /**
   * The session of each device's latest DeviceConnected, whichever hub wrote it: a
   * DeviceDisconnected naming an older session changes nothing (it raced a reconnect elsewhere).
   */
  private readonly latestSession = new Map<string, string>();
  private readonly shared: RegistryOptions['shared'];
  /** Shared log: folds (own commits and other hubs' events) run one after another, in log order. */
  private folding: Promise<void> = Promise.resolve();
  private readonly appender: OrderedAppender;
  private readonly storage: Storage;
  private readonly bus: Bus;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: HubMetrics | undefined;
  private readonly snapshotEvery: number;
  private readonly commandSender: RegistryOptions['commandSender'];
  private online = 0;
  /** Position of the last event folded into the projection. */
  private applied = 0;
  private sinceSnapshot = 0;
  private snapshotting: Promise<Snapshot<RegistrySnapshotState>> | undefined;
  private closed = false;

  private constructor(options: RegistryOptions) {
    this.storage = options.storage;
    this.bus = options.bus;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? pino({ enabled: false });
    this.metrics = options.metrics;
    this.snapshotEvery = Math.max(1, options.snapshotEvery ?? 1000);
    this.commandSender = options.commandSender;
    this.shared = options.shared;
    this.appender = new OrderedAppender(
      this.storage,
      (stored) => this.committed(stored),
      (err) => this.log.error({ err }, 'registry failed to apply committed events'),
    );
  }

  /**
   * Rebuilds the registry from the latest snapshot and the events after it. Devices the log
   * says are online cannot be: no session survives a restart (the previous hub crashed or was
   * killed), so each gets DeviceDisconnected {reason: 'hub_restart'}.
   */
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    await registry.rebuild();
    return registry;
  }

  get size(): number {
    return this.devices.size;
  }

  get onlineCount(): number {
    return this.online;
  }

  counts(): DeviceCounts {
    return { online: this.online, offline: this.devices.size - this.online };
  }

  /** Position of the last event folded into the projection. */
  get position(): number {
    return this.applied;
  }

  /** The device, or undefined. The object is shared: read it, never mutate it. */
  get(id: string): Device | undefined {
    return this.devices.get(id);
  }

  /** Every device, ordered by id. */
  list(): Device[] {
    const out: Device[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      const device = this.devices.get(this.ids.at(i) as string);
      if (device) out.push(device);
    }
    return out;
  }

  query(query: DeviceQuery): DevicePage {
    return queryDevices(this.ids, this.devices, query);
  }

  /** True when `sessionId` is the device's live session. */
  isLiveSession(id: string, sessionId: string): boolean {
    return this.sessions.get(id) === sessionId;
  }

  /** Registers an unknown device, records changed facts of a known one, and marks it online. */
  connect(request: ConnectRequest): Promise<Device> {
    const { id, hello, sessionId, transport } = request;
    return this.serial.run(id, async () => {
      const meta: EventMetadata = { actor: deviceActor(id), correlationId: sessionId, causationId: null };
      const device = this.devices.get(id);
      const events: NewEvent[] = [];
      const registered = registrationData(id, hello);
      if (!device) {
        events.push(this.event(id, DeviceEventTypes.Registered, registered, meta));
      } else {
        const diff = factsDiff(device, hello);
        if (diff) events.push(this.event(id, DeviceEventTypes.Updated, diff, meta));
      }
      const extra = request.labels;
      const base = device ? device.labels : registered.labels;
      const labels = extra && effectiveLabelPatch(base, extra.labels);
      if (labels) {
        if (Object.keys(patchLabels(base, labels)).length > MAX_LABELS) throw new LabelLimitError(id, MAX_LABELS);
        events.push(this.event(id, DeviceEventTypes.Updated, { labels } satisfies DeviceUpdatedData, extra.meta));
      }
      const data: DeviceConnectedData = { sessionId, transport };
      const previous = this.sessions.get(id);
      if (previous !== undefined) data.replacedSessionId = previous;
      events.push(this.event(id, DeviceEventTypes.Connected, data, meta));
      // Claimed first: a device online in the log always has an owner the leader can check.
      if (this.shared) {
        await this.shared.ownership
          .claim(id, sessionId, transport)
          .catch((err: unknown) => this.log.warn({ err, device: id }, 'cannot record who holds the session'));
      }
      await this.appender.submit(events);
      this.sessions.set(id, sessionId);
      const connected = this.devices.get(id) as Device;
      if (hello.uptime !== undefined) connected.status.uptime = hello.uptime;
      if (hello.resources) Object.assign(connected.resources, hello.resources);
      return connected;
    });
  }

  /**
   * Marks the device offline if `sessionId` is still its live session; a session that was
   * replaced or already ended changes nothing. Resolves to whether an event was written.
   */
  disconnect(id: string, sessionId: string, reason: DisconnectReason): Promise<boolean> {
    return this.serial.run(id, async () => {
      if (this.sessions.get(id) !== sessionId) return false;
      const device = this.devices.get(id);
      if (!device?.status.online) {
        this.sessions.delete(id);
        return false;
      }
      const actor = reason === DisconnectReasons.SOCKET_CLOSED ? deviceActor(id) : SYSTEM_ACTOR;
      const data: DeviceDisconnectedData = { sessionId, reason };
      await this.appender.submit([
        this.event(id, DeviceEventTypes.Disconnected, data, { actor, correlationId: sessionId, causationId: null }),
      ]);
      this.sessions.delete(id);
      this.shared?.ownership.release(id, sessionId);
      return true;
    });
  }

  /**
   * Several hubs: the device's session was held by a hub that is gone, and it has not come back
   * through another. Writes DeviceDisconnected {reason: 'hub_lost'} for its latest session if it
   * is still online here; resolves to whether it wrote. Only the fleet's leader calls this.
   */
  markLost(id: string): Promise<boolean> {
    return this.serial.run(id, async () => {
      const device = this.devices.get(id);
      if (!device?.status.online || this.sessions.has(id)) return false;
      const sessionId = this.latestSession.get(id) ?? null;
      const data: DeviceDisconnectedData = { sessionId, reason: DisconnectReasons.HUB_LOST };
      await this.appender.submit([
        this.event(id, DeviceEventTypes.Disconnected, data, {
          actor: SYSTEM_ACTOR,
          correlationId: sessionId,
          causationId: null,
        }),
      ]);
      return true;
    });
  }

  /** The session this device's latest DeviceConnected names (on any hub), if known. */
  latestSessionOf(id: string): string | undefined {
    return this.latestSession.get(id);
  }

  /**
   * Shared log: folds the device events other hubs appended since the last one folded here.
   * Their hubs published them on NATS already, so they are not published again; a device whose
   * session this hub held and another hub took over is let go (`onTakeover`).
   */
  catchUp(): Promise<void> {
    return this.exclusive(() => this.foldOthers(undefined));
  }

  /**
   * Appends the device's own event (`event` frame) as DeviceReported, or a teleoperation report
   * as TeleoperationStarted / TeleoperationStopped. Undefined when the device is unknown, or when
   * the report changes nothing (a stop while not teleoperated, the session already recorded).
   */
  report(id: string, sessionId: string, type: string, data: Record<string, unknown>): Promise<StoredEvent | undefined> {
    return this.serial.run(id, async () => {
      const device = this.devices.get(id);
      if (!device) return undefined;
      const meta: EventMetadata = { actor: deviceActor(id), correlationId: sessionId, causationId: null };
      const teleop = teleoperationEvent(type, data);
      if (teleop?.type === DeviceEventTypes.TeleoperationStopped && !device.teleoperation.active) return undefined;
      // A session the device reports again (a reconnect that replaced a live connection) is already recorded.
      if (teleop && 'indicators' in teleop.data && device.teleoperation.active) {
        const since = teleop.data.since;
        if (since !== undefined && since === device.teleoperation.since) return undefined;
      }
      if (teleop && isCommandDriven(teleop.data) && this.commandSender) {
        const sender = await this.commandSender(id).catch((err: unknown) => {
          this.log.warn({ err, device: id }, 'cannot find who sent the device its commands');
          return undefined;
        });
        if (sender !== undefined) teleop.data.operator = sender;
      }
      const event = teleop
        ? this.event(id, teleop.type, teleop.data, meta)
        : this.event(id, DeviceEventTypes.Reported, { type, data }, meta);
      const [stored] = await this.appender.submit([event]);
      return stored;
    });
  }

  /** Renames a device or changes its labels. Writes nothing (and returns the device as is) when nothing changes. */
  update(id: string, patch: DevicePatch, meta: EventMetadata): Promise<Device> {
    return this.serial.run(id, async () => {
      const device = this.devices.get(id);
      if (!device) throw new DeviceNotFoundError(id);
      const data: DeviceUpdatedData = {};
      let changed = false;
      if (patch.name !== undefined && patch.name !== device.name) {
        data.name = patch.name;
        changed = true;
      }
      const labels = patch.labels && effectiveLabelPatch(device.labels, patch.labels);
      if (labels) {
        if (Object.keys(patchLabels(device.labels, labels)).length > MAX_LABELS)
          throw new LabelLimitError(id, MAX_LABELS);
        data.labels = labels;
        changed = true;
      }
      if (!changed) return device;
      await this.appender.submit([this.event(id, DeviceEventTypes.Updated, data, meta)]);
      return this.devices.get(id) as Device;
    });
  }

  /**
   * Removes a device: DeviceDisconnected {reason: 'decommissioned'} first when it is online,
   * then DeviceDecommissioned; then asks the transports to close its session. If it connects
   * again it registers as a new device (refusing it is the identity issue's job).
   */
  decommission(id: string, meta: EventMetadata): Promise<void> {
    return this.serial.run(id, async () => {
      const device = this.devices.get(id);
      if (!device) throw new DeviceNotFoundError(id);
      const events: NewEvent[] = [];
      if (device.status.online) {
        const data: DeviceDisconnectedData = {
          sessionId: this.sessions.get(id) ?? null,
          reason: DisconnectReasons.DECOMMISSIONED,
        };
        events.push(this.event(id, DeviceEventTypes.Disconnected, data, meta));
      }
      events.push(this.event(id, DeviceEventTypes.Decommissioned, { name: device.name }, meta));
      await this.appender.submit(events);
      const session = this.sessions.get(id);
      this.sessions.delete(id);
      if (session !== undefined) this.shared?.ownership.release(id, session);
      for (const hook of this.hooks) {
        try {
          hook(id, DisconnectReasons.DECOMMISSIONED);
        } catch (err) {
          this.log.error({ err, device: id }, 'disconnect hook failed');
        }
      }
    });
  }

  /** Transports register here to be told when a device's session must end. Returns an unregister function. */
  onDisconnectRequest(hook: DisconnectHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Transports register here to be told a session moved to another hub; they end it without writing. */
  onTakeover(hook: TakeoverHook): () => void {
    this.takeoverHooks.add(hook);
    return () => this.takeoverHooks.delete(hook);
  }

  /** A frame arrived (live field, no event). `uptime` in seconds, when the frame said. */
  touch(id: string, now: number, uptime?: number): void {
    const device = this.devices.get(id);
    if (!device) return;
    device.status.lastSeen = now;
    if (uptime !== undefined) device.status.uptime = uptime;
  }

  /** Resources and uptime from `system.*` telemetry metrics (live fields, no event). */
  updateResources(id: string, metrics: Readonly<Record<string, number>>): void {
    const device = this.devices.get(id);
    if (device) applyLiveMetrics(device, metrics);
  }

  /** Saves the projection (with its live fields) as the `registry` snapshot, after any save under way. */
  snapshot(): Promise<Snapshot<RegistrySnapshotState>> {
    const previous = this.snapshotting;
    const run = (previous ? previous.then(noop, noop) : Promise.resolve()).then(() => this.saveSnapshot());
    this.snapshotting = run;
    const clear = (): void => {
      if (this.snapshotting === run) this.snapshotting = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** Resolves when every operation and snapshot under way has finished (failures included). */
  async settled(): Promise<void> {
    await this.serial.idle();
    await this.appender.drain();
    await this.folding;
    while (this.snapshotting) await this.snapshotting.catch(noop);
  }

  /**
   * Waits for every operation under way, then takes a last snapshot. Does not close the
   * storage, which belongs to the caller. Transports should end their sessions first.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settled();
    try {
      await this.snapshot();
    } finally {
      this.closed = true;
      this.hooks.clear();
      this.takeoverHooks.clear();
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private async rebuild(): Promise<void> {
    const started = this.clock.now();
    const result = await replay(
      this.storage,
      (device) => {
        this.devices.set(device.id, device);
        this.ids.add(device.id);
        if (device.status.online) this.online++;
      },
      (event) => this.fold(event),
    );
    if (result.ignoredSnapshot) this.log.warn('registry snapshot has an unknown format; replayed the whole log');
    if (result.snapshotPosition !== null && result.snapshotPosition > this.applied)
      this.applied = result.snapshotPosition;
    const replayed = result.replayed;
    this.sinceSnapshot = replayed;

    const stale: NewEvent[] = [];
    for (const device of this.devices.values()) {
      // With other hubs, an online device may be connected to one of them: the leader decides.
      if (!device.status.online || this.shared) continue;
      const data: DeviceDisconnectedData = { sessionId: null, reason: DisconnectReasons.HUB_RESTART };
      stale.push(
        this.event(device.id, DeviceEventTypes.Disconnected, data, {
          actor: SYSTEM_ACTOR,
          correlationId: null,
          causationId: null,
        }),
      );
    }
    if (stale.length > 0) await this.appender.submit(stale);

    this.metrics?.setEventLogSource(() => this.storage.countEvents());
    this.metrics?.setDeviceSource(() => this.counts());
    this.log.info(
      {
        devices: this.devices.size,
        snapshotPosition: result.snapshotPosition,
        replayed,
        markedOffline: stale.length,
        ms: this.clock.now() - started,
      },
      'registry rebuilt',
    );
    if (this.sinceSnapshot >= this.snapshotEvery) await this.snapshot();
  }

  /** Applies one event to the projection, keeping the index and counters in step. */
  private fold(event: StoredEvent): Device | undefined {
    const id = event.aggregateId;
    if (event.type === DeviceEventTypes.Connected) {
      const sessionId = (event.data as unknown as DeviceConnectedData).sessionId;
      if (typeof sessionId === 'string') this.latestSession.set(id, sessionId);
    } else if (event.type === DeviceEventTypes.Disconnected) {
      const ended = (event.data as unknown as DeviceDisconnectedData).sessionId;
      const latest = this.latestSession.get(id);
      // A hub that lost the race with a reconnect elsewhere: the device is online on the other.
      if (ended !== null && latest !== undefined && ended !== latest) {
        if (event.position > this.applied) this.applied = event.position;
        return this.devices.get(id);
      }
    } else if (event.type === DeviceEventTypes.Decommissioned) {
      this.latestSession.delete(id);
    }
    const prev = this.devices.get(event.aggregateId);
    const next = apply(this.devices, event);
    if (!prev && next) this.ids.add(event.aggregateId);
    else if (prev && !next) this.ids.delete(event.aggregateId);
    this.online += (next?.status.online ? 1 : 0) - (prev?.status.online ? 1 : 0);
    if (event.position > this.applied) this.applied = event.position;
    return next;
  }

  /**
   * Runs in log order for each committed batch: fold, count, publish, maybe snapshot. With a
   * shared log, what other hubs appended before the batch is folded first.
   */
  private committed(stored: readonly StoredEvent[]): void | Promise<void> {
    if (!this.shared) return this.publishCommitted(stored);
    return this.exclusive(async () => {
      const first = stored[0]?.position;
      if (first !== undefined && first > this.applied + 1) await this.foldOthers(first);
      this.publishCommitted(stored);
    });
  }

  /** Runs `work` after every fold under way (shared log only). */
  private exclusive(work: () => Promise<void> | void): Promise<void> {
    const run = this.folding.then(work);
    this.folding = run.catch((err: unknown) => this.log.error({ err }, 'cannot fold the shared event log'));
    return run;
  }

  /** Folds other hubs' device events after `applied` (and before `until`, this hub's own batch). */
  private async foldOthers(until: number | undefined): Promise<void> {
    for (;;) {
      const page = await this.storage.readEvents({
        cursor: this.applied,
        limit: CATCH_UP_PAGE,
        order: 'asc',
        types: [...DEVICE_EVENT_TYPES],
      });
      let folded = 0;
      for (const event of page) {
        if (until !== undefined && event.position >= until) break;
        this.foldOther(event);
        folded++;
      }
      if (folded === 0) return;
      this.sinceSnapshot += folded;
      if (folded < page.length || page.length < CATCH_UP_PAGE) return;
    }
  }

  private foldOther(event: StoredEvent): void {
    const id = event.aggregateId;
    const local = this.sessions.get(id);
    this.fold(event);
    if (event.type !== DeviceEventTypes.Connected || local === undefined) return;
    if ((event.data as unknown as DeviceConnectedData).sessionId === local) return;
    // The device connected through another hub: the session here is stale, and ends without an event.
    this.sessions.delete(id);
    this.shared?.ownership.release(id, local);
    for (const hook of this.takeoverHooks) {
      try {
        hook(id, local);
      } catch (err) {
        this.log.error({ err, device: id }, 'takeover hook failed');
      }
    }
  }

  private publishCommitted(stored: readonly StoredEvent[]): void {
    const touched = new Set<string>();
    for (const event of stored) {
      this.fold(event);
      touched.add(event.aggregateId);
      this.metrics?.eventsAppended.inc({ type: event.type });
      this.bus.publish(`flotilla.${event.aggregateId}.event.${event.type}`, event);
    }
    // One status message per device per batch: a first hello is two events, one change.
    for (const id of touched) {
      this.bus.publish(`flotilla.${id}.status`, this.devices.get(id) ?? { id, decommissioned: true });
    }
    this.sinceSnapshot += stored.length;
    if (this.sinceSnapshot >= this.snapshotEvery && !this.snapshotting && !this.closed) {
      this.snapshot().catch((err: unknown) =>
        this.log.warn({ err }, 'registry snapshot failed; retrying after the next events'),
      );
    }
  }

  private async saveSnapshot(): Promise<Snapshot<RegistrySnapshotState>> {
    // Taken synchronously between two commits: every registry event up to `applied` is folded
    // in, none after. Device objects are copy-on-write, so the array stays that state while
    // the save is under way (only live fields can move on).
    const snapshot: Snapshot<RegistrySnapshotState> = {
      name: REGISTRY_SNAPSHOT,
      position: this.applied,
      ts: this.clock.now(),
      state: { version: SNAPSHOT_VERSION, devices: [...this.devices.values()] },
    };
    const counted = this.sinceSnapshot;
    this.sinceSnapshot = 0;
    try {
      await this.storage.saveSnapshot(snapshot);
    } catch (err) {
      this.sinceSnapshot += counted;
      throw err;
    }
    this.log.debug({ position: snapshot.position, devices: snapshot.state.devices.length }, 'registry snapshot saved');
    return snapshot;
  }

  private event(aggregateId: string, type: string, data: object, metadata: EventMetadata): NewEvent {
    return {
      id: randomUUID(),
      aggregateId,
      type,
      ts: this.clock.now(),
      data: data as Record<string, unknown>,
      metadata,
    };
  }
}
