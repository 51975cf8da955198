import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Fleet health over time (docs/console.md, docs/api.md): one row per sample of the fleet's
 * counts, taken by the hub (the leader, with several hubs) on an interval. `ts` (the hub's
 * clock) is the key: a range read and retention both walk it. Small: one row per 30 s is under
 * 100,000 rows for 30 days, whatever the fleet's size.
 */
export function fleetHealth(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('fleet_health')
        .addColumn('ts', schema.bigint, (col) => col.primaryKey())
        .addColumn('online', 'integer', (col) => col.notNull())
        .addColumn('offline', 'integer', (col) => col.notNull())
        .addColumn('alerting', 'integer', (col) => col.notNull())
        .execute();
    },
  };
}
