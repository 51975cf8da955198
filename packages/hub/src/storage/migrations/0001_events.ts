import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * The append-only event log. `position` is the global order every reader pages by; `id` is
 * the event's own identity (so a retried append is refused, not stored twice). The indexes
 * serve the event queries: one device's history, one type, a time range, one actor.
 */
export function events(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('events')
        .addColumn('position', schema.autoIncrementType, schema.autoIncrement)
        .addColumn('id', 'text', (col) => col.notNull().unique())
        .addColumn('aggregate_id', 'text', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('data', schema.json, (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('correlation_id', 'text')
        .addColumn('causation_id', 'text')
        .execute();
      await db.schema
        .createIndex('events_aggregate_position')
        .on('events')
        .columns(['aggregate_id', 'position'])
        .execute();
      await db.schema.createIndex('events_type_position').on('events').columns(['type', 'position']).execute();
      await db.schema.createIndex('events_ts').on('events').column('ts').execute();
      await db.schema.createIndex('events_actor_position').on('events').columns(['actor', 'position']).execute();
    },
  };
}
