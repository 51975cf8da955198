import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Device enrollment: enrollment tokens (`fle_…`, stored as SHA-256 hashes; `uses_allowed` null
 * means unlimited) and one credential per device (`fld_…`, hashed likewise). Times are epoch
 * milliseconds. A revoked credential stays as a row (`revoked_at`) until the device enrolls
 * again, which overwrites it; `enrolled_with` names the enrollment token that created it.
 */
export function deviceIdentity(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('enrollment_tokens')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('token_hash', 'text', (col) => col.notNull().unique())
        .addColumn('uses_allowed', 'integer')
        .addColumn('uses', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('expires_at', schema.bigint)
        .addColumn('labels', schema.json, (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('revoked_at', schema.bigint)
        .addColumn('created', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('device_credentials')
        .addColumn('device_id', 'text', (col) => col.primaryKey())
        .addColumn('secret_hash', 'text', (col) => col.notNull())
        .addColumn('created', schema.bigint, (col) => col.notNull())
        .addColumn('revoked_at', schema.bigint)
        .addColumn('enrolled_with', 'text')
        .execute();
    },
  };
}
