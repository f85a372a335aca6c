import type { Kysely, Migration } from 'kysely';

/**
 * Dead letters: an outbox entry whose stage gave up (retry budget spent) stays in the outbox with
 * `dead_at` set instead of being deleted, so that an operator can see it and replay it. Leasing skips
 * it. Additive: existing rows are live (NULL).
 */
export function deadLettersMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('outbox').addColumn('dead_at', 'text').execute();
      await db.schema.createIndex('outbox_dead_at_idx').on('outbox').column('dead_at').execute();
    },
  };
}
