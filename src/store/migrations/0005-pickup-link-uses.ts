import type { Kysely, Migration } from 'kysely';

/**
 * One-time pickup links (REQ4, people): the id of every link that was used, so that a link works once
 * across restarts and across every API process sharing the store. Additive.
 */
export function pickupLinkUsesMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('pickup_link_uses')
        .addColumn('link_id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
