import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { Bus, type BusHandler } from '../bus.js';
import type { NatsSubjects } from './subjects.js';

/**
 * The hub's bus on NATS: what this hub publishes is delivered to its own subscribers at once (as
 * on the in-process bus) and published on NATS under the same subject, for the other hubs of the
 * fleet and for services; a subscription also subscribes on NATS, so a `/ws/client` on this hub
 * sees the telemetry, events and status of devices connected to any hub.
 *
 * The connection is opened with `noEcho`: NATS never hands this hub back its own messages, so
 * nothing is delivered twice. Payloads are JSON, as a service reading the subjects expects.
 */
export class NatsBus extends Bus {
  readonly #nc: NatsConnection;
  readonly #subjects: NatsSubjects;
  readonly #onError: (err: unknown, subject: string) => void;
  #publishErrors = 0;
  #undecodable = 0;

  constructor(nc: NatsConnection, subjects: NatsSubjects, onHandlerError: (err: unknown, subject: string) => void) {
    super(onHandlerError);
    this.#nc = nc;
    this.#subjects = subjects;
    this.#onError = onHandlerError;
  }

  override publish(subject: string, data: unknown): void {
    super.publish(subject, data);
    if (this.#nc.isClosed()) return;
    try {
      this.#nc.publish(this.#subjects.toNats(subject), JSON.stringify(data));
    } catch (err) {
      // A closed or draining connection while the hub stops: local delivery already happened.
      this.#publishErrors++;
      this.#onError(err, subject);
    }
  }

  override subscribe(pattern: string, handler: BusHandler): () => void {
    const local = super.subscribe(pattern, handler);
    if (this.#nc.isClosed()) return local;
    let remote: NatsSubscription | undefined = this.#nc.subscribe(this.#subjects.toNats(pattern), {
      callback: (err, msg) => {
        if (err) return;
        let data: unknown;
        try {
          data = msg.json();
        } catch {
          // Someone else published something that is not JSON on our subjects: not ours to deliver.
          this.#undecodable++;
          return;
        }
        const subject = this.#subjects.fromNats(msg.subject);
        this.deliver({ pattern, handler }, subject, data);
      },
    });
    return () => {
      local();
      if (remote && !this.#nc.isClosed()) remote.unsubscribe();
      remote = undefined;
    };
  }

  /** Other hubs and services may listen: every message goes out. */
  override hasSubscribers(): boolean {
    return true;
  }

  /** Messages NATS refused to take (the connection was closing). */
  get publishErrors(): number {
    return this.#publishErrors;
  }

  /** Messages received on a subscribed subject that were not JSON. */
  get undecodable(): number {
    return this.#undecodable;
  }
}
