import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Clock, TimerHandle } from '@flotilla/protocol';
import type { AlertService } from '../alerts/service.js';
import type { CommandService } from '../commands/service.js';
import { HubStartError, HubStartErrorCodes } from '../http/errors.js';
import { DEVICE_EVENT_TYPES } from '../registry/projection.js';
import type { DeviceOwnership, Registry } from '../registry/registry.js';
import { NatsAlertLeader } from './alerts.js';
import { NatsBus } from './bus.js';
import { CommandResponder, NatsCommandRelay } from './commands.js';
import { FleetPresence } from './presence.js';
import type { NatsSettings } from './settings.js';
import { HubTopics, NatsSubjects } from './subjects.js';

/**
 * A hub as one of several sharing a fleet over NATS (docs/nats.md): the bus on NATS, presence
 * and leadership in JetStream KV, commands relayed by request/reply, and the registry following
 * the event log the hubs share in PostgreSQL. `assembleHub` opens it before the registry (which
 * needs its ownership) and attaches the services once they exist.
 */

const DEVICE_EVENTS = new Set(DEVICE_EVENT_TYPES);

async function connectNats(settings: NatsSettings, hubId: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: settings.url.split(',').map((s) => s.trim()),
      name: `flotilla-hub-${hubId}`,
      // Our own messages are delivered locally already: never hand them back.
      noEcho: true,
      maxReconnectAttempts: -1,
      timeout: 5_000,
    });
  } catch (err) {
    throw new HubStartError(
      HubStartErrorCodes.NATS_UNREACHABLE,
      `cannot connect to NATS at ${settings.url}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export class NatsCluster {
  readonly hubId: string;
  readonly bus: NatsBus;
  readonly presence: FleetPresence;
  readonly relay: NatsCommandRelay;
  /** Where a follower's alert acks and resolves go (AlertService `leader`). */
  readonly alertLeader: NatsAlertLeader;
  readonly ownership: DeviceOwnership;
  readonly #nc: NatsConnection;
  readonly #subjects: NatsSubjects;
  readonly #settings: NatsSettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #responder: CommandResponder;
  #commands: CommandService | undefined;
  readonly #subs: Subscription[] = [];
  readonly #timers: TimerHandle[] = [];
  #catchingUp: Promise<void> | undefined;
  #catchUpAgain = false;
  #unlead: (() => void) | undefined;
  #closed = false;

  private constructor(
    nc: NatsConnection,
    subjects: NatsSubjects,
    presence: FleetPresence,
    options: { settings: NatsSettings; clock: Clock; logger: Logger; hubId: string; graceMs: number },
  ) {
    this.hubId = options.hubId;
    this.#nc = nc;
    this.#subjects = subjects;
    this.#settings = options.settings;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.presence = presence;
    this.bus = new NatsBus(nc, subjects, (err, subject) => this.#log.error({ err, subject }, 'bus subscriber failed'));
    this.relay = new NatsCommandRelay(nc, subjects, options.graceMs);
    this.alertLeader = new NatsAlertLeader(nc, subjects, this.#log);
    this.#responder = new CommandResponder(nc, subjects, () => this.#commands, this.#log);
    this.ownership = {
      claim: async (id, session, transport) => {
        this.#responder.hold(id, session);
        await presence.claim(id, session, transport);
      },
      release: (id, session) => {
        this.#responder.let(id, session);
        presence.release(id, session);
      },
    };
  }

  /** Connects and opens the presence buckets; a HubStartError `nats_unreachable` when NATS cannot be reached. */
  static async open(options: {
    settings: NatsSettings;
    clock: Clock;
    logger: Logger;
    /** How long past a command's timeout its holder still waits for the device (CommandService's grace). */
    graceMs: number;
  }): Promise<NatsCluster> {
    const hubId = randomUUID();
    const subjects = new NatsSubjects(options.settings.prefix);
    const nc = await connectNats(options.settings, hubId);
    try {
      const presence = await FleetPresence.open({
        nc,
        subjects,
        hubId,
        clock: options.clock,
        logger: options.logger,
        ttlMs: options.settings.presenceTtlMs,
      });
      return new NatsCluster(nc, subjects, presence, { ...options, hubId });
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new HubStartError(
        HubStartErrorCodes.NATS_UNREACHABLE,
        `cannot open the JetStream KV buckets on ${options.settings.url} (is JetStream on? nats-server -js): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Starts taking part: the registry follows the other hubs' events, command requests are
   * answered, rule changes are exchanged, and the leader (chosen in KV) evaluates alerts and
   * marks the devices of hubs that are gone offline.
   */
  async start(parts: { registry: Registry; commands: CommandService; alerts: AlertService }): Promise<void> {
    const { registry, alerts } = parts;
    this.#commands = parts.commands;
    // A device event another hub appended: fold it (and whatever came before it) now.
    this.#subscribe('flotilla.*.event.>', (subject) => {
      const type = subject.split('.').slice(3).join('.');
      if (DEVICE_EVENTS.has(type)) this.#catchUp(registry);
    });
    this.#subscribe(HubTopics.ALERT_RULES, () => {
      alerts.reloadRules().catch((err: unknown) => this.#log.warn({ err }, 'cannot reload the alert rules'));
    });
    // NATS core may drop a message (a reconnect): read the log on a timer as well.
    this.#timers.push(this.#clock.setInterval(() => this.#catchUp(registry), this.#settings.catchUpMs));
    this.#unlead = this.presence.onLeadership((leader) => {
      // Answer followers' acks at once: they queue behind lead() in the service.
      if (leader) this.alertLeader.serve(alerts);
      else this.alertLeader.stop();
      (leader ? alerts.lead() : alerts.follow()).catch((err: unknown) =>
        this.#log.error({ err }, leader ? 'cannot start evaluating alerts' : 'cannot stop evaluating alerts'),
      );
      if (leader) void this.sweep(registry);
    });
    this.#timers.push(
      this.#clock.setInterval(
        () => void this.sweep(registry),
        Math.max(100, Math.floor(this.#settings.presenceTtlMs / 3)),
      ),
    );
    await this.#catchUpNow(registry);
    await this.presence.start();
  }

  /** Tells the other hubs that the alert rules changed. */
  rulesChanged(): void {
    if (!this.#nc.isClosed()) this.#nc.publish(this.#subjects.toNats(HubTopics.ALERT_RULES), '{}');
  }

  /** Leader only: marks offline the devices of hubs that are gone. Never rejects. */
  async sweep(registry: Registry): Promise<string[]> {
    try {
      // Fold first: a device that reconnected to another hub must not be swept on stale state.
      await registry.catchUp();
      return await this.presence.sweep(registry);
    } catch (err) {
      this.#log.warn({ err }, 'presence sweep failed');
      return [];
    }
  }

  /** Stops timers and subscriptions and leaves the fleet presence; the connection stays for the last writes. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers.splice(0)) timer.cancel();
    this.#unlead?.();
    this.alertLeader.stop();
    for (const sub of this.#subs.splice(0)) if (!this.#nc.isClosed()) sub.unsubscribe();
    this.#responder.close();
    await this.#catchingUp;
    await this.presence.close();
  }

  /** Sends what is pending and closes the connection (after the registry and storage writes). */
  async close(): Promise<void> {
    await this.stop();
    if (this.#nc.isClosed()) return;
    await this.#nc.drain().catch((err: unknown) => this.#log.debug({ err }, 'NATS drain failed'));
  }

  #subscribe(subject: string, handler: (subject: string) => void): void {
    this.#subs.push(
      this.#nc.subscribe(this.#subjects.toNats(subject), {
        callback: (err, msg) => {
          if (!err) handler(this.#subjects.fromNats(msg.subject));
        },
      }),
    );
  }

  /** At most one catch-up runs; what arrives meanwhile asks for one more after it. */
  #catchUp(registry: Registry): void {
    if (this.#closed) return;
    if (this.#catchingUp) {
      this.#catchUpAgain = true;
      return;
    }
    this.#catchingUp = this.#catchUpNow(registry).finally(() => {
      this.#catchingUp = undefined;
      if (this.#catchUpAgain) {
        this.#catchUpAgain = false;
        this.#catchUp(registry);
      }
    });
  }

  async #catchUpNow(registry: Registry): Promise<void> {
    try {
      await registry.catchUp();
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the events other hubs appended; trying again');
    }
  }
}
