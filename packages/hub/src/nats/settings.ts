/** How a hub joins a fleet over NATS (HubOptions `natsUrl` and friends; docs/nats.md). */
export interface NatsSettings {
  /** NATS server URL (`nats://host:4222`; several separated by commas). */
  url: string;
  /** Puts every subject under `<prefix>.` and prefixes the KV buckets: several fleets on one NATS. */
  prefix: string;
  /** A hub unheard of for this long is gone (ms, default 15,000). */
  presenceTtlMs: number;
  /** How often the registry reads what other hubs appended, besides when told over NATS (ms, default 5,000). */
  catchUpMs: number;
}

export const NATS_DEFAULTS = { prefix: '', presenceTtlMs: 15_000, catchUpMs: 5_000 } as const;
