import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Reports (docs/reports.md): one row per requested report. `request` holds what was asked
 * (scope, device or selector, metrics, thresholds) as JSON; `statistics` and `summary` are
 * filled when generation ends, `error` when it fails. The HTML and PDF are rendered from
 * `statistics` on each read, so the stored report is small and always the same document.
 *
 * Also an index on `commands(issued_at)`: a report counts the commands of a time range over
 * the whole fleet, which the per-device index cannot serve.
 */
export function reports(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('reports')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('scope', 'text', (col) => col.notNull())
        .addColumn('range_from', schema.bigint, (col) => col.notNull())
        .addColumn('range_to', schema.bigint, (col) => col.notNull())
        .addColumn('request', schema.json, (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('error', 'text')
        .addColumn('statistics', schema.json)
        .addColumn('summary', schema.json)
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('completed_at', schema.bigint)
        .execute();
      await db.schema.createIndex('reports_created').on('reports').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('reports_status').on('reports').column('status').execute();
      await db.schema.createIndex('commands_issued_at').on('commands').column('issued_at').execute();
    },
  };
}
