import type { Clock } from '../core/index.js';
import { createPostgresStore } from './postgres-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

/** The `store` section of the configuration (config/schema.ts), plus what the composition root injects. */
export interface StoreConfig {
  readonly kind: 'sqlite' | 'postgres';
  /** SQLite database file (`:memory:` for tests). @defaultValue 'data/qerds.sqlite' */
  readonly sqliteFile?: string;
  /** @defaultValue 'postgres://postgres@127.0.0.1:5432/test' */
  readonly postgresUrl?: string;
  /** @defaultValue 'public' */
  readonly postgresSchema?: string;
  readonly blobDir: string;
  /**
   * Largest payload blob whose bytes the database holds (written with the message that names it, no file);
   * 0: every blob is a file. @defaultValue 65536
   */
  readonly inlineBlobMaxBytes?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Years an evidence is kept after its event time: deleteEvidence refuses before. @defaultValue 10 */
  readonly retentionYears?: number;
  /** SQLite: hold the store for this process alone (an access point), see SqliteStoreOptions.exclusive. @defaultValue false */
  readonly exclusive?: boolean;
}

/** Picks the adapter named by `kind`. Call migrate() on the result before use. */
export async function createStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case 'sqlite':
      return createSqliteStore({
        file: config.sqliteFile ?? 'data/qerds.sqlite',
        blobDir: config.blobDir,
        inlineBlobMaxBytes: config.inlineBlobMaxBytes,
        clock: config.clock,
        retentionYears: config.retentionYears,
        exclusive: config.exclusive,
      });
    case 'postgres':
      return createPostgresStore({
        connectionString: config.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/test',
        schema: config.postgresSchema,
        blobDir: config.blobDir,
        inlineBlobMaxBytes: config.inlineBlobMaxBytes,
        clock: config.clock,
        retentionYears: config.retentionYears,
      });
  }
}
