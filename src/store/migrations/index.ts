import type { Migration, MigrationProvider } from 'kysely';
import type { SqlFlavour } from '../flavour.js';
import { initialMigration } from './0001-initial.js';
import { deadLettersMigration } from './0002-dead-letters.js';
import { evidenceVersionsMigration } from './0003-evidence-versions.js';
import { scaleLeasesAndInboxMigration } from './0004-scale-leases-and-inbox.js';
import { pickupLinkUsesMigration } from './0005-pickup-link-uses.js';
import { idempotencyKeysMigration } from './0006-idempotency-keys.js';
import { messageReferenceMigration } from './0007-message-reference.js';
import { peerReceiptsAndReceptionKeysMigration } from './0008-peer-receipts-and-reception-keys.js';
import { activityTimeIndexesMigration } from './0009-activity-time-indexes.js';
import { inlineBlobsMigration } from './0010-inline-blobs.js';
import { outboxLiveIndexesMigration } from './0011-outbox-live-indexes.js';

/**
 * Migrations listed in code, not globbed from the file system, so they run the same from src/ (tsx)
 * and dist/. Names sort in the order they must run; never rename or edit one that has shipped.
 */
export function storeMigrations(flavour: SqlFlavour): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-initial': initialMigration(flavour),
    '0002-dead-letters': deadLettersMigration(),
    '0003-evidence-versions': evidenceVersionsMigration(),
    '0004-scale-leases-and-inbox': scaleLeasesAndInboxMigration(),
    '0005-pickup-link-uses': pickupLinkUsesMigration(),
    '0006-idempotency-keys': idempotencyKeysMigration(),
    '0007-message-reference': messageReferenceMigration(),
    '0008-peer-receipts-and-reception-keys': peerReceiptsAndReceptionKeysMigration(),
    '0009-activity-time-indexes': activityTimeIndexesMigration(),
    '0010-inline-blobs': inlineBlobsMigration(flavour),
    '0011-outbox-live-indexes': outboxLiveIndexesMigration(),
  };
  return { getMigrations: async () => migrations };
}
