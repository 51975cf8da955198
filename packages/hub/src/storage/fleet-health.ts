import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';

/**
 * The fleet's counts over time (migration 0017): one sample per interval, written by the
 * fleet-health sampler (src/fleet/health.ts), read by `GET /api/v1/fleet/health`. Times are
 * epoch ms on the hub's clock.
 */

export interface FleetHealthSample {
  ts: number;
  online: number;
  offline: number;
  alerting: number;
}

export interface FleetHealthQuery {
  /** Inclusive. */
  from: number;
  /** Exclusive. */
  to: number;
  /** The newest samples of the range, at most this many. */
  limit: number;
}

export class FleetHealthStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  /**
   * Stores a sample. A second sample at the same ms (two hubs both believing they lead, for the
   * moment a leadership changes) is dropped: the first says the same thing.
   */
  async record(sample: FleetHealthSample): Promise<void> {
    await guard('recording fleet health', () =>
      this.#engine.db
        .insertInto('fleet_health')
        .values(sample)
        .onConflict((oc) => oc.column('ts').doNothing())
        .execute(),
    );
  }

  /** The newest `limit` samples in [from, to), oldest first. */
  async range(query: FleetHealthQuery): Promise<FleetHealthSample[]> {
    const rows = await guard('reading fleet health', () =>
      this.#engine.db
        .selectFrom('fleet_health')
        .selectAll()
        .where('ts', '>=', query.from)
        .where('ts', '<', query.to)
        .orderBy('ts', 'desc')
        .limit(query.limit)
        .execute(),
    );
    return rows.reverse().map((r) => ({
      ts: Number(r.ts),
      online: Number(r.online),
      offline: Number(r.offline),
      alerting: Number(r.alerting),
    }));
  }

  /** Deletes the samples older than `cutoff`; how many. */
  async retain(cutoff: number): Promise<number> {
    const result = await guard('applying fleet health retention', () =>
      this.#engine.db.deleteFrom('fleet_health').where('ts', '<', cutoff).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}
