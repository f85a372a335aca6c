import type { Kysely, Migration } from 'kysely';

/**
 * Scale-out (several worker processes on one store), additive:
 * - `outbox.lease_token`: the owner of a lease. Completing, retrying, dead-lettering and renewing an
 *   entry are compare-and-set on it, so a worker whose lease ran out (a slow job, a paused process)
 *   cannot settle an entry another worker has leased since.
 * - `messages_inbox_idx`: a recipient's inbox is read newest first with keyset paging
 *   (recipient, role, submitted_at desc, id desc) instead of scanning the newest messages of everyone.
 */
export function scaleLeasesAndInboxMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('outbox').addColumn('lease_token', 'text').execute();
      await db.schema
        .createIndex('messages_inbox_idx')
        .on('messages')
        .columns(['recipient', 'role', 'submitted_at', 'id'])
        .execute();
    },
  };
}
