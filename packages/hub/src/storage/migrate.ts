import { Migrator, type Kysely, type Migration } from 'kysely';
import type { SchemaDialect } from './engine.js';
import { DatabaseError } from './errors.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

/**
 * Brings the schema up to date. Kysely's Migrator serialises concurrent migrators: on
 * PostgreSQL with a session advisory lock around one transaction (two hubs starting together
 * on an empty database both succeed, one of them doing the work); on SQLite the data-dir lock
 * and the single connection already exclude everyone else.
 */
export async function migrateToLatest(db: Kysely<Database>, schema: SchemaDialect): Promise<void> {
  const resolved: Record<string, Migration> = {};
  for (const [name, create] of Object.entries(migrations)) resolved[name] = create(schema);
  // Unordered: migrations are numbered by the issue that needs them and may land out of order
  // (0006 after 0007); a database that has a later one still gets an earlier one it lacks. A
  // database with a migration this hub does not know is still refused.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => resolved },
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === 'Error')?.migrationName;
  const reason = error instanceof Error ? error.message : String(error);
  throw new DatabaseError(failed ? `migration ${failed} failed: ${reason}` : `migrations failed: ${reason}`, {
    cause: error,
  });
}
