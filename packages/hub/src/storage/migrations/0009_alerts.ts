import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Alerts (docs/alerts.md). `alert_rules` holds each rule's definition as one JSON document (the
 * alerts module validates it; a rule's shape can grow without a migration). `alerts` has one row
 * per alert from firing to resolved: the open ones are what a restarted hub rebuilds its
 * evaluator from, and the table answers the listings without scanning the event log (which has
 * the history, one event per transition). `alert_deliveries` has one row per webhook delivery,
 * so its attempts and last error are visible and a restarted hub retries what was pending.
 */
export function alerts(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alert_rules')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull().unique())
        .addColumn('definition', schema.json, (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('updated_at', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('rule_id', 'text', (col) => col.notNull())
        .addColumn('rule_name', 'text', (col) => col.notNull())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('severity', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('summary', 'text', (col) => col.notNull())
        .addColumn('details', schema.json, (col) => col.notNull())
        .addColumn('started_at', schema.bigint, (col) => col.notNull())
        .addColumn('acknowledged_at', schema.bigint)
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', schema.bigint)
        .addColumn('resolved_by', 'text')
        .addColumn('resolution', 'text')
        .execute();
      await db.schema.createIndex('alerts_by_start').on('alerts').columns(['started_at', 'id']).execute();
      await db.schema.createIndex('alerts_by_status').on('alerts').columns(['status', 'started_at']).execute();
      await db.schema.createIndex('alerts_by_device').on('alerts').columns(['device_id', 'started_at']).execute();
      await db.schema.createIndex('alerts_by_rule').on('alerts').columns(['rule_id', 'status']).execute();
      await db.schema
        .createTable('alert_deliveries')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('alert_id', 'text', (col) => col.notNull())
        .addColumn('rule_id', 'text', (col) => col.notNull())
        .addColumn('url', 'text', (col) => col.notNull())
        .addColumn('event', 'text', (col) => col.notNull())
        .addColumn('payload', schema.json, (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('last_attempt_at', schema.bigint)
        .addColumn('next_attempt_at', schema.bigint)
        .addColumn('delivered_at', schema.bigint)
        .execute();
      await db.schema
        .createIndex('alert_deliveries_by_alert')
        .on('alert_deliveries')
        .columns(['alert_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('alert_deliveries_pending')
        .on('alert_deliveries')
        .columns(['status', 'created_at'])
        .execute();
    },
  };
}
