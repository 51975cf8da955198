import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import { FrameQueries } from './telemetry-frame-queries.js';
import { TelemetryMaintenance } from './telemetry-maintenance.js';
import { TelemetryPartitions } from './telemetry-partitions.js';
import { TelemetryQueries } from './telemetry-queries.js';
import type {
  AggregateQuery,
  AggregateRow,
  LatestValue,
  RawQuery,
  RetentionCutoffs,
  RetentionResult,
  SampleQuery,
  StoredSample,
  TelemetryLayout,
  TelemetryWrite,
  TimedValue,
  VolumeQuery,
  WriteOutcome,
} from './telemetry-types.js';
import { TelemetryWriter } from './telemetry-writes.js';

/**
 * The telemetry tables (migrations 0006, 0011, 0016) on either engine: batched writes with dedup, reads,
 * rollups and retention. The telemetry module (src/telemetry/) owns the queue, validation and
 * scheduling; this class only talks to the database.
 */
export class TelemetryStore {
  readonly #engine: EngineConnection;
  readonly #writer: TelemetryWriter;
  readonly #queries: TelemetryQueries;
  readonly #frames: FrameQueries;
  readonly #maintenance: TelemetryMaintenance;
  #layout: Promise<TelemetryLayout> | undefined;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
    const partitions = new TelemetryPartitions(engine);
    this.#writer = new TelemetryWriter(engine, partitions);
    this.#queries = new TelemetryQueries(engine);
    this.#frames = new FrameQueries(engine);
    this.#maintenance = new TelemetryMaintenance(engine, partitions);
  }

  /** How raw points are laid out here (`frames` on SQLite; `partitioned` or `timescale` on PostgreSQL). */
  layout(): Promise<TelemetryLayout> {
    this.#layout ??= guard('reading the telemetry layout', async () => {
      const row = await this.#engine.db
        .selectFrom('telemetry_settings')
        .select('value')
        .where('name', '=', 'layout')
        .executeTakeFirst();
      const value = row?.value;
      if (value === 'frames' || value === 'partitioned' || value === 'timescale') return value;
      throw new Error(`unknown telemetry layout ${String(value)}`);
    }).catch((error: unknown) => {
      this.#layout = undefined;
      throw error;
    });
    return this.#layout;
  }

  /** One transaction; one outcome per item, in order. */
  async write(items: readonly TelemetryWrite[]): Promise<WriteOutcome[]> {
    return this.#writer.write(items, await this.layout());
  }

  async aggregate(query: AggregateQuery): Promise<AggregateRow[]> {
    if (query.source === 'raw' && (await this.layout()) === 'frames') return this.#frames.aggregate(query);
    return this.#queries.aggregate(query);
  }

  volume(query: VolumeQuery): Promise<Map<string, number>> {
    return this.#queries.volume(query);
  }

  async points(query: RawQuery): Promise<TimedValue[]> {
    return ((await this.layout()) === 'frames' ? this.#frames : this.#queries).points(query);
  }

  async latest(device: string): Promise<LatestValue[]> {
    return ((await this.layout()) === 'frames' ? this.#frames : this.#queries).latest(device);
  }

  samples(query: SampleQuery): Promise<StoredSample[]> {
    return this.#queries.samples(query);
  }

  async rollup(rawCutoff: number, maxTransactions?: number): Promise<number> {
    return this.#maintenance.rollup(rawCutoff, await this.layout(), maxTransactions);
  }

  async retain(cutoffs: RetentionCutoffs): Promise<RetentionResult> {
    const result = await this.#maintenance.retain(cutoffs, await this.layout());
    if (result.series > 0) this.#writer.forgetSeries();
    return result;
  }
}
