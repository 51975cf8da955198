import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Command records: one row per command sent to a device, from issued to its outcome. The event
 * log has the history (CommandIssued … CommandSucceeded); this table answers "what happened to
 * command X" and "the last commands of device Y" without scanning it. JSON columns hold the
 * arguments, the device's result and the error. `deadline` (epoch ms) is when the hub stops
 * waiting: a record still open past it was abandoned by a hub that stopped, and is closed as
 * timed out by whichever hub sweeps first.
 */
export function commands(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('capability', 'text', (col) => col.notNull())
        .addColumn('command', 'text', (col) => col.notNull())
        .addColumn('args', schema.json, (col) => col.notNull())
        .addColumn('priority', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('result', schema.json)
        .addColumn('error', schema.json)
        .addColumn('timeout_ms', 'integer', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('issued_at', schema.bigint, (col) => col.notNull())
        .addColumn('delivered_at', schema.bigint)
        .addColumn('completed_at', schema.bigint)
        .addColumn('deadline', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema.createIndex('commands_by_device').on('commands').columns(['device_id', 'issued_at']).execute();
      await db.schema.createIndex('commands_open').on('commands').columns(['status', 'deadline']).execute();
    },
  };
}
