import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Device logs (docs/logs.md): one row per line a device shipped. `id` is the order the hub stored
 * them in (the pagination cursor and the key a live tail and a listing share); `ts` is the
 * device's clock; `level` is pino's number (10 trace … 60 fatal) so a minimum level is one range
 * condition; `fields` is the line's structured fields (JSON) or null; `received` is the hub's
 * clock. Indexes: (device, id) for one device's lines in order, (ts) for time ranges across the
 * fleet and for retention, which deletes by `ts`.
 */
export function logs(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('logs')
        .addColumn('id', schema.autoIncrementType, schema.autoIncrement)
        .addColumn('device', 'text', (col) => col.notNull())
        .addColumn('ts', schema.bigint, (col) => col.notNull())
        .addColumn('level', 'integer', (col) => col.notNull())
        .addColumn('message', 'text', (col) => col.notNull())
        .addColumn('fields', schema.json)
        .addColumn('received', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema.createIndex('logs_device_id').on('logs').columns(['device', 'id']).execute();
      await db.schema.createIndex('logs_ts').on('logs').column('ts').execute();
    },
  };
}
