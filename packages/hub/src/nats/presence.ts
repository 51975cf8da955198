import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { DeviceOwnership } from '../registry/registry.js';
import type { NatsSubjects } from './subjects.js';

/**
 * Who holds what, across the hubs of one fleet, in two JetStream KV buckets:
 *
 * - `<fleet>_presence`: one key per connected device, `{hub, session, transport, since}`, put by
 *   the hub that accepts the connection before it writes DeviceConnected, deleted after its
 *   DeviceDisconnected (only while it still names that session: a reconnect elsewhere overwrote it).
 * - `<fleet>_hubs`: `hub.<id>` per running hub, refreshed every third of `ttlMs`; the bucket's
 *   max age is `ttlMs`, so a killed hub's key disappears on its own. And `leader`: created by
 *   whichever hub finds it absent, kept by its holder's updates (compare-and-set on the revision).
 *
 * The leader sweeps: a device the registry says is online whose presence names no live hub (its
 * hub was killed, and it has not reconnected elsewhere) gets DeviceDisconnected {reason:
 * 'hub_lost'}. Only the leader does it, and only the leader evaluates alerts, so nothing fires
 * twice. docs/nats.md.
 */

export interface PresenceEntry {
  hub: string;
  session: string;
  transport: string;
  since: number;
}

export interface FleetPresenceOptions {
  nc: NatsConnection;
  subjects: NatsSubjects;
  hubId: string;
  clock: Clock;
  logger: Logger;
  /** A hub unheard of for this long is gone (ms, default 15,000). */
  ttlMs: number;
}

/** What the leader sweeps: the registry's view of who is online. */
export interface SweptRegistry {
  list(): readonly { id: string; status: { online: boolean } }[];
  markLost(id: string): Promise<boolean>;
}

const LEADER_KEY = 'leader';
const HUB_KEY_PREFIX = 'hub.';

export class FleetPresence implements DeviceOwnership {
  readonly hubId: string;
  readonly #o: FleetPresenceOptions;
  readonly #devices: KV;
  readonly #hubs: KV;
  /** Presence entries as the bucket's watch last told them. */
  readonly #entries = new Map<string, PresenceEntry>();
  readonly #leadership = new Set<(leader: boolean) => void>();
  #watch: { stop(): void } | undefined;
  #timer: TimerHandle | undefined;
  /** Revision of our `leader` key while we hold it. */
  #leaderRevision: number | undefined;
  #beating: Promise<void> | undefined;
  #closed = false;

  private constructor(options: FleetPresenceOptions, devices: KV, hubs: KV) {
    this.#o = options;
    this.hubId = options.hubId;
    this.#devices = devices;
    this.#hubs = hubs;
  }

  /** Opens (creating when absent) the buckets and announces this hub; `start` begins the heartbeat. */
  static async open(options: FleetPresenceOptions): Promise<FleetPresence> {
    const kvm = new Kvm(options.nc);
    const devices = await kvm.create(options.subjects.bucket('presence'), { history: 1 });
    const hubs = await kvm.create(options.subjects.bucket('hubs'), { history: 1, ttl: options.ttlMs });
    const presence = new FleetPresence(options, devices, hubs);
    await presence.#watchDevices();
    return presence;
  }

  get isLeader(): boolean {
    return this.#leaderRevision !== undefined;
  }

  /** Told when this hub becomes the leader (true) or stops being it (false). */
  onLeadership(listener: (leader: boolean) => void): () => void {
    this.#leadership.add(listener);
    return () => this.#leadership.delete(listener);
  }

  /** Puts this hub's key, tries for the leadership, and keeps both alive every third of the TTL. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.#timer = this.#o.clock.setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.#o.ttlMs / 3)));
  }

  /** One round: refresh our hub key, keep or try for the leadership. Never rejects. */
  heartbeat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  /** The device entry the watch last saw, or undefined. */
  entry(id: string): PresenceEntry | undefined {
    return this.#entries.get(id);
  }

  async claim(id: string, sessionId: string, transport: string): Promise<void> {
    const entry: PresenceEntry = { hub: this.hubId, session: sessionId, transport, since: this.#o.clock.now() };
    await this.#devices.put(id, JSON.stringify(entry));
  }

  release(id: string, sessionId: string): void {
    void this.#release(id, sessionId).catch((err: unknown) =>
      this.#o.logger.debug({ err, device: id }, 'cannot clear the presence of a device'),
    );
  }

  /**
   * Leader only: every device online in the registry whose presence names no live hub is marked
   * lost. Resolves to the devices marked. A hub that is not the leader does nothing.
   */
  async sweep(registry: SweptRegistry): Promise<string[]> {
    if (!this.isLeader || this.#closed) return [];
    const alive = await this.#liveHubs();
    const lost: string[] = [];
    for (const device of registry.list()) {
      if (!device.status.online) continue;
      const seen = this.#entries.get(device.id);
      if (seen && alive.has(seen.hub)) continue;
      // Read again: the watch may lag a claim made a moment ago.
      const fresh = parseEntry(await this.#devices.get(device.id));
      if (fresh && alive.has(fresh.hub)) continue;
      if (await registry.markLost(device.id)) {
        lost.push(device.id);
        if (fresh) await this.#devices.delete(device.id).catch(() => undefined);
      }
    }
    if (lost.length > 0) this.#o.logger.info({ devices: lost.length }, 'devices of a hub that is gone marked offline');
    return lost;
  }

  /** Stops the heartbeat, removes this hub's key and gives up the leadership at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#watch?.stop();
    await this.#beating;
    try {
      await this.#hubs.delete(HUB_KEY_PREFIX + this.hubId);
      if (this.#leaderRevision !== undefined) {
        await this.#hubs.delete(LEADER_KEY, { previousSeq: this.#leaderRevision });
      }
    } catch (err) {
      this.#o.logger.debug({ err }, 'cannot remove this hub from the fleet presence');
    }
    this.#setLeader(undefined);
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    const me = JSON.stringify({ hub: this.hubId, at: this.#o.clock.now() });
    try {
      await this.#hubs.put(HUB_KEY_PREFIX + this.hubId, me);
    } catch (err) {
      this.#o.logger.warn({ err }, 'cannot refresh this hub in the fleet presence');
    }
    try {
      if (this.#leaderRevision !== undefined) {
        this.#setLeader(await this.#hubs.update(LEADER_KEY, me, this.#leaderRevision));
      } else {
        this.#setLeader(await this.#hubs.create(LEADER_KEY, me));
      }
    } catch {
      // Someone else holds it, or NATS is away, or our write landed but its answer was lost (a
      // timeout under load): the key says which.
      this.#setLeader(await this.#leaderRevisionIfOurs());
    }
  }

  async #leaderRevisionIfOurs(): Promise<number | undefined> {
    try {
      const entry = await this.#hubs.get(LEADER_KEY);
      if (!entry || entry.operation !== 'PUT') return undefined;
      return entry.json<{ hub?: unknown }>().hub === this.hubId ? entry.revision : undefined;
    } catch {
      return undefined;
    }
  }

  #setLeader(revision: number | undefined): void {
    const was = this.isLeader;
    this.#leaderRevision = this.#closed ? undefined : revision;
    if (was === this.isLeader) return;
    this.#o.logger.info(
      { hub: this.hubId, leader: this.isLeader },
      this.isLeader ? 'leading the fleet' : 'no longer leading the fleet',
    );
    for (const listener of this.#leadership) {
      try {
        listener(this.isLeader);
      } catch (err) {
        this.#o.logger.error({ err }, 'leadership listener failed');
      }
    }
  }

  async #release(id: string, sessionId: string): Promise<void> {
    const current = await this.#devices.get(id);
    const entry = parseEntry(current);
    if (!current || !entry || entry.session !== sessionId) return;
    await this.#devices.delete(id, { previousSeq: current.revision });
  }

  async #liveHubs(): Promise<Set<string>> {
    const alive = new Set<string>([this.hubId]);
    for await (const key of await this.#hubs.keys(`${HUB_KEY_PREFIX}>`)) alive.add(key.slice(HUB_KEY_PREFIX.length));
    return alive;
  }

  async #watchDevices(): Promise<void> {
    const watch = await this.#devices.watch();
    this.#watch = watch;
    void (async () => {
      for await (const change of watch) {
        const entry = parseEntry(change);
        if (entry) this.#entries.set(change.key, entry);
        else this.#entries.delete(change.key);
      }
    })().catch((err: unknown) => {
      if (!this.#closed) this.#o.logger.warn({ err }, 'the presence watch stopped');
    });
  }
}

function parseEntry(entry: KvEntry | null): PresenceEntry | undefined {
  if (!entry || entry.operation !== 'PUT') return undefined;
  try {
    const value = entry.json<PresenceEntry>();
    return typeof value?.hub === 'string' && typeof value.session === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
