import type { Kysely, Migration } from 'kysely';

/**
 * Two tables of the Peppol profile, additive:
 * - `peer_receipts`: the signed receipt a peer AP answered a relay with, kept as received, so that the SHA-256 that
 *   C2's RelayAcceptance names can be checked against the receipt itself later (export, verification);
 * - `reception_keys`: a second identity of a received message beside its ebMS MessageId (Peppol: the SBDH sender
 *   and InstanceIdentifier), unique, so that the same business document sent again under a new MessageId is
 *   recognised as a duplicate, also when two copies arrive at once.
 */
export function peerReceiptsAndReceptionKeysMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('peer_receipts')
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('xml', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('peer_receipts_pk', ['message_id', 'sha256'])
        .execute();
      await db.schema
        .createTable('reception_keys')
        .addColumn('reception_key', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
