import type { Kysely, Migration } from 'kysely';

/**
 * Idempotency-Key of REST submissions: one row per (account, key), claimed while the request runs, then
 * holding the response to replay. In the store (not in a process) so that every API process sharing it
 * answers a retry the same way. Additive.
 */
export function idempotencyKeysMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('idem_key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('claim_token', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('response_headers', 'text')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['account', 'idem_key'])
        .execute();
      await db.schema
        .createIndex('idempotency_keys_expires')
        .on('idempotency_keys')
        .column('expires_at')
        .execute();
    },
  };
}
