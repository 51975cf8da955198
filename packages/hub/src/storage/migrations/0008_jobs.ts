import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from '../engine.js';

/**
 * Jobs: commands the HAL marks long-running (`job: true`) report progress and can be cancelled.
 * `job` is 1 for those (0 otherwise), `progress` 0 … 1 with the device's last note.
 */
export function jobs(_schema: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('commands')
        .addColumn('job', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('commands').addColumn('progress', 'real').execute();
      await db.schema.alterTable('commands').addColumn('progress_message', 'text').execute();
      await db.schema.createIndex('commands_jobs').on('commands').columns(['job', 'issued_at']).execute();
    },
  };
}
