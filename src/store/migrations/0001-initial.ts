import type { Kysely, Migration } from 'kysely';
import type { SqlFlavour } from '../flavour.js';

/** Messages, evidence, blobs and the outbox. Types are the portable subset of SQLite and PostgreSQL. */
export function initialMigration(flavour: SqlFlavour): Migration {
  return {
    // The migration runs on a schema-less Kysely instance by design (Kysely's Migration contract).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ebms_message_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('parts', 'text', (c) => c.notNull())
        .addColumn('peer', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('submitted_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('messages_ebms_message_id_role_key', ['ebms_message_id', 'role'])
        .execute();
      await db.schema
        .createIndex('messages_state_idx')
        .on('messages')
        .columns(['state', 'submitted_at'])
        .execute();
      await db.schema
        .createIndex('messages_submitted_at_idx')
        .on('messages')
        .column('submitted_at')
        .execute();

      await db.schema
        .createTable('evidence')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('event_time', 'text', (c) => c.notNull())
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('xml', 'text', (c) => c.notNull())
        .addColumn('issued_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('evidence_message_id_sequence_key', ['message_id', 'sequence'])
        .execute();

      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('outbox')
        // AUTOINCREMENT on SQLite: ids are never reused after a delete, so a late completeOutbox of a
        // stale worker cannot remove a newer job that happened to get the same id.
        .addColumn('id', flavour.serialType, (c) =>
          flavour.kind === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('leased_until', 'text')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('outbox_due_idx').on('outbox').columns(['not_before', 'id']).execute();
    },
  };
}
