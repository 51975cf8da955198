import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Folded state of a projection (the registry, later others) up to `position`, so a restart
 * replays only the events after it. One row per projection name, overwritten in place.
 */
export function snapshots(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('snapshots')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('position', schema.bigint, (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('state', schema.json, (col) => col.notNull())
        .execute();
    },
  };
}
