/**
 * Where the hub's subjects live on NATS. By default exactly the DESIGN.md subjects
 * (`flotilla.<deviceId>.<kind>...`), so services subscribe and send commands with the names the
 * docs give. A prefix (`--nats-prefix`) puts a whole fleet under `<prefix>.`, so several fleets
 * (or parallel tests) can share one NATS server without seeing each other.
 */

/** Subjects the hubs of one fleet use between themselves; never a device's (device ids start with a letter or digit). */
export const HubTopics = {
  /** An alert rule was created, changed or deleted: the leader reloads its rules. */
  ALERT_RULES: 'flotilla-hub.alert-rules',
  /** A user acknowledged or resolved an alert through a follower: the leader applies it (request/reply). */
  ALERT_ACTIONS: 'flotilla-hub.alert-actions',
} as const;

/** A prefix must be NATS subject tokens without wildcards. */
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export class NatsSubjects {
  readonly prefix: string;
  readonly #lead: string;

  constructor(prefix = '') {
    if (prefix !== '' && !PREFIX_RE.test(prefix)) {
      throw new RangeError(
        `NATS prefix ${JSON.stringify(prefix)} must be dot-separated tokens of letters, digits, _ and -`,
      );
    }
    this.prefix = prefix;
    this.#lead = prefix === '' ? '' : `${prefix}.`;
  }

  /** The NATS subject (or pattern) of a bus subject. */
  toNats(subject: string): string {
    return this.#lead + subject;
  }

  /** The bus subject of a NATS subject received on a subscription made with `toNats`. */
  fromNats(subject: string): string {
    return this.#lead !== '' && subject.startsWith(this.#lead) ? subject.slice(this.#lead.length) : subject;
  }

  /** A JetStream KV bucket name of this fleet (bucket names allow letters, digits, `_` and `-`). */
  bucket(name: string): string {
    return this.prefix === '' ? `flotilla_${name}` : `${this.prefix.replace(/\./g, '_')}_flotilla_${name}`;
  }
}
