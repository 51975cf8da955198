import type { StoredEvent } from '@flotilla/protocol';
import type { Insertable, Selectable, Transaction } from 'kysely';
import type { EngineConnection } from './engine.js';
import { DatabaseError, DuplicateEventError, guard, toStorageError, type StorageError } from './errors.js';
import { GroupCommit, type Settled } from './group-commit.js';
import type { Database, EventsTable } from './schema.js';
import type { EventQuery, NewEvent } from './types.js';

/** Bounds one group-commit transaction, so a burst never holds the write lock for long. */
const MAX_EVENTS_PER_TRANSACTION = 10_000;
/** Rows per INSERT: 9 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_INSERT = 500;

/** An event validated and serialised at submit time, so one bad caller cannot fail a batch. */
interface PreparedEvent {
  row: Insertable<EventsTable>;
  event: Omit<StoredEvent, 'position'>;
}

/** The append-only event log on either engine. */
export class EventStore {
  readonly #engine: EngineConnection;
  readonly #commits: GroupCommit<PreparedEvent, StoredEvent>;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
    this.#commits = new GroupCommit((batch) => this.#commitBatch(batch), MAX_EVENTS_PER_TRANSACTION);
  }

  async append(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    return this.#commits.submit(events.map(prepare));
  }

  async read(query: EventQuery): Promise<StoredEvent[]> {
    if (!Number.isInteger(query.limit) || query.limit < 0) {
      throw new RangeError(`limit must be a non-negative integer, got ${query.limit}`);
    }
    if (query.limit === 0) return [];
    const desc = query.order === 'desc';
    let select = this.#engine.db.selectFrom('events').selectAll();
    if (query.aggregateId !== undefined) select = select.where('aggregate_id', '=', query.aggregateId);
    if (query.types !== undefined && query.types.length > 0) select = select.where('type', 'in', query.types);
    if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
    if (query.since !== undefined) select = select.where('ts', '>=', query.since);
    if (query.until !== undefined) select = select.where('ts', '<', query.until);
    if (query.cursor !== undefined) select = select.where('position', desc ? '<' : '>', query.cursor);
    const rows = await guard('reading events', () =>
      select
        .orderBy('position', desc ? 'desc' : 'asc')
        .limit(query.limit)
        .execute(),
    );
    return rows.map(fromRow);
  }

  async count(): Promise<number> {
    const row = await guard('counting events', () =>
      this.#engine.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.count);
  }

  async lastPosition(): Promise<number> {
    const row = await guard('reading the last position', () =>
      this.#engine.db
        .selectFrom('events')
        .select((eb) => eb.fn.max<number | null>('position').as('last'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.last ?? 0);
  }

  /** Waits for appends already submitted (before closing). */
  drain(): Promise<void> {
    return this.#commits.drain();
  }

  async #commitBatch(batch: readonly (readonly PreparedEvent[])[]): Promise<Settled<StoredEvent[]>[]> {
    try {
      const positions = await this.#insert(batch.flat());
      return batch.map((events) => ({ ok: true, value: events.map((e) => withPosition(e, positions)) }));
    } catch (error) {
      // A duplicate id fails the whole transaction; retry each caller alone so that only the
      // caller who sent it fails. Any other error (connection lost) is everyone's.
      if (batch.length > 1 && this.#engine.isUniqueViolation(error)) return this.#commitEach(batch);
      const failure = this.#storageError(error);
      return batch.map(() => ({ ok: false, error: failure }));
    }
  }

  async #commitEach(batch: readonly (readonly PreparedEvent[])[]): Promise<Settled<StoredEvent[]>[]> {
    const outcomes: Settled<StoredEvent[]>[] = [];
    for (const events of batch) {
      try {
        const positions = await this.#insert(events);
        outcomes.push({ ok: true, value: events.map((e) => withPosition(e, positions)) });
      } catch (error) {
        outcomes.push({ ok: false, error: this.#storageError(error) });
      }
    }
    return outcomes;
  }

  /**
   * Appends events in the same transaction as `write` (its own, outside the group commit): the
   * commands journal writes command rows and their events together, so a reader sees both or
   * neither. Rejects with DuplicateEventError when an id is already stored.
   */
  async appendWith(
    events: readonly NewEvent[],
    write: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<StoredEvent[]> {
    const prepared = events.map(prepare);
    try {
      const positions = await this.#engine.db.transaction().execute(async (trx) => {
        await write(trx);
        return this.#insertIn(trx, prepared);
      });
      return prepared.map((e) => withPosition(e, positions));
    } catch (error) {
      throw this.#storageError(error);
    }
  }

  /** One transaction; returns each inserted id's position. */
  async #insert(events: readonly PreparedEvent[]): Promise<Map<string, number>> {
    return this.#engine.db.transaction().execute((trx) => this.#insertIn(trx, events));
  }

  async #insertIn(trx: Transaction<Database>, events: readonly PreparedEvent[]): Promise<Map<string, number>> {
    const positions = new Map<string, number>();
    if (events.length === 0) return positions;
    await this.#engine.lockEventLog(trx);
    for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
      const rows = events.slice(i, i + ROWS_PER_INSERT).map((e) => e.row);
      // Neither engine promises RETURNING rows in VALUES order: match them up by id.
      const inserted = await trx.insertInto('events').values(rows).returning(['id', 'position']).execute();
      for (const { id, position } of inserted) positions.set(id, Number(position));
    }
    return positions;
  }

  #storageError(error: unknown): StorageError {
    if (this.#engine.isUniqueViolation(error)) {
      return new DuplicateEventError('an event with the same id is already stored', { cause: error });
    }
    return toStorageError('appending events', error);
  }
}

function prepare(event: NewEvent): PreparedEvent {
  if (!Number.isSafeInteger(event.ts)) {
    throw new TypeError(`event ${event.id}: ts must be an integer of milliseconds, got ${event.ts}`);
  }
  const data = JSON.stringify(event.data);
  const { actor } = event.metadata;
  const correlationId = event.metadata.correlationId ?? null;
  const causationId = event.metadata.causationId ?? null;
  return {
    row: {
      id: event.id,
      aggregate_id: event.aggregateId,
      type: event.type,
      ts: event.ts,
      data,
      actor,
      correlation_id: correlationId,
      causation_id: causationId,
    },
    // What a later read returns (undefined fields dropped, dates as strings), so projections
    // see the same event live and on replay.
    event: {
      id: event.id,
      aggregateId: event.aggregateId,
      type: event.type,
      ts: event.ts,
      data: JSON.parse(data) as Record<string, unknown>,
      metadata: { actor, correlationId, causationId },
    },
  };
}

function withPosition(prepared: PreparedEvent, positions: ReadonlyMap<string, number>): StoredEvent {
  const position = positions.get(prepared.event.id);
  if (position === undefined) throw new DatabaseError(`event ${prepared.event.id} was not stored`);
  return { position, ...prepared.event };
}

function fromRow(row: Selectable<EventsTable>): StoredEvent {
  return {
    position: Number(row.position),
    id: row.id,
    aggregateId: row.aggregate_id,
    type: row.type,
    ts: Number(row.ts),
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: { actor: row.actor, correlationId: row.correlation_id, causationId: row.causation_id },
  };
}
