import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Users, API tokens, refresh sessions, revoked access tokens and hub-wide secrets. Times are
 * epoch milliseconds. Secrets are stored only as hashes (passwords as encoded argon2id/scrypt,
 * random tokens as SHA-256); `hub_secrets` holds the JWT signing key, in the database so that
 * several hubs on one PostgreSQL accept each other's tokens.
 */
export function identity(schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('username', 'text', (col) => col.notNull().unique())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('password_hash', 'text', (col) => col.notNull())
        .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('updated_at', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('token_hash', 'text', (col) => col.notNull().unique())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('owner_id', 'text', (col) => col.notNull())
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('expires_at', schema.bigint)
        .addColumn('revoked_at', schema.bigint)
        .addColumn('last_used_at', schema.bigint)
        .execute();
      await db.schema.createIndex('api_tokens_owner').on('api_tokens').column('owner_id').execute();
      await db.schema
        .createTable('refresh_sessions')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'text', (col) => col.notNull())
        .addColumn('token_hash', 'text', (col) => col.notNull().unique())
        .addColumn('created_at', schema.bigint, (col) => col.notNull())
        .addColumn('expires_at', schema.bigint, (col) => col.notNull())
        .addColumn('revoked_at', schema.bigint)
        .execute();
      await db.schema
        .createTable('revoked_access_tokens')
        .addColumn('jti', 'text', (col) => col.primaryKey())
        .addColumn('expires_at', schema.bigint, (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('hub_secrets')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('value', 'text', (col) => col.notNull())
        .execute();
    },
  };
}
