import type { Kysely, Migration } from 'kysely';

/**
 * The sender's own reference of a submission (`reference`, the ERP's correlation id), and the index that
 * lists a sender's messages newest first (GET /api/v1/messages: sender, role, submitted_at desc, id desc)
 * without scanning everyone's. Additive.
 */
export function messageReferenceMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('messages').addColumn('reference', 'text').execute();
      await db.schema
        .createIndex('messages_sent_idx')
        .on('messages')
        .columns(['sender', 'role', 'submitted_at', 'id'])
        .execute();
    },
  };
}
