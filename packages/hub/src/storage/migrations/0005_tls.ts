import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * TLS: the hub's own certificate authority and the device certificates it issued. The CA is one
 * row (`name` = 'hub'): certificate and private key as PEM, written by whichever hub starts
 * first and read back by every later start and every replica on the same PostgreSQL. Device
 * certificates are recorded by serial (hex) so that a presented certificate is checked against
 * the hub's records, not only its signature: `revoked_at` is set when the device's credential is
 * revoked. Times are epoch milliseconds.
 */
export function tls(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('hub_ca')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('certificate', 'text', (col) => col.notNull())
        .addColumn('private_key', 'text', (col) => col.notNull())
        .addColumn('created', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('device_certificates')
        .addColumn('serial', 'text', (col) => col.primaryKey())
        .addColumn('device_id', 'text', (col) => col.notNull())
        .addColumn('fingerprint', 'text', (col) => col.notNull())
        .addColumn('not_after', schema.bigint, (col) => col.notNull())
        .addColumn('created', schema.bigint, (col) => col.notNull())
        .addColumn('revoked_at', schema.bigint)
        .execute();
      await db.schema.createIndex('device_certificates_device').on('device_certificates').column('device_id').execute();
    },
  };
}
