import type { Kysely, Migration } from 'kysely';

/**
 * Archive renewal (B-LTA re-timestamping) replaces an evidence's XML by an augmented one that only adds
 * unsigned properties; the version it replaces is kept here, so that what was handed out before stays
 * reproducible byte for byte (a relying party may hold it and ask about it). Additive.
 */
export function evidenceVersionsMigration(): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('evidence_versions')
        .addColumn('evidence_id', 'text', (c) => c.notNull().references('evidence.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('xml', 'text', (c) => c.notNull())
        .addColumn('replaced_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_versions_pkey', ['evidence_id', 'version'])
        .execute();
    },
  };
}
