import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/**
 * The outbox split by two partial indexes: live entries by when they are due, dead letters by when they died.
 * With the full index on `dead_at` (0002), SQLite's planner (no statistics) answered "what is due" (`dead_at IS NULL`
 * and `not_before <= now`) through it: a walk over every live entry plus a sort for the lease's ORDER BY, on every
 * poll, however few were due. Through the live index, the same queries read only due entries, in lease order, and
 * stop at the LIMIT; dead-letter listings read only dead letters. `outbox_due_idx` (0001) is left to the planner.
 */
export function outboxLiveIndexesMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('outbox_dead_at_idx').execute();
      await db.schema
        .createIndex('outbox_live_due_idx')
        .on('outbox')
        .columns(['not_before', 'id'])
        .where(sql.ref('dead_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('outbox_dead_idx')
        .on('outbox')
        .columns(['dead_at', 'id'])
        .where(sql.ref('dead_at'), 'is not', null)
        .execute();
    },
  };
}
