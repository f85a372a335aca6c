import type { Kysely, Migration } from 'kysely';

/**
 * Indexes on when things happened to a message: evidence by event time, peer receipts by arrival. They serve
 * `listMessagesActiveBetween` (the Peppol reports of a period read the messages of that period, not all). Additive.
 */
export function activityTimeIndexesMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('evidence_event_time_idx')
        .on('evidence')
        .columns(['event_time', 'message_id'])
        .execute();
      await db.schema
        .createIndex('peer_receipts_received_at_idx')
        .on('peer_receipts')
        .columns(['received_at', 'message_id'])
        .execute();
    },
  };
}
