import type { Kysely, Migration } from 'kysely';
import type { SqlFlavour } from '../flavour.js';

/**
 * Small blobs in the database: the bytes of a blob up to the store's inline size are written into its `blobs` row,
 * in the transaction of the message that names it, instead of a file (no file, fsync, link or directory fsync per
 * put). NULL for every existing row and for larger blobs, which stay files. Additive.
 */
export function inlineBlobsMigration(flavour: SqlFlavour): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('blobs').addColumn('content', flavour.binaryType).execute();
    },
  };
}
