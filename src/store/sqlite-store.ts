import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import { systemClock, type Clock } from '../core/index.js';
import { createFileBlobStore } from './file-blob-store.js';
import { sqliteFlavour } from './flavour.js';
import type { StoreDatabase } from './schema.js';
import { createSqlStore } from './sql-store.js';
import { cachingStatements } from './sqlite-statement-cache.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, created with its directory when missing; `:memory:` for a throw-away store. */
  readonly file: string;
  /** Directory of payload blobs. */
  readonly blobDir: string;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Years an evidence is kept after its event time: deleteEvidence refuses before. @defaultValue 10 */
  readonly retentionYears?: number;
  /** How long a writer waits for another process's write lock, in ms. @defaultValue 5000 */
  readonly busyTimeoutMs?: number;
}

/** The embedded store: one SQLite file (better-sqlite3) plus a blob directory. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const database = new Database(options.file);
  // WAL: readers do not block the writer. synchronous stays FULL (the WAL default): a committed
  // evidence must survive a power cut, it may be the only proof of an event.
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  const db = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database: cachingStatements(database) }) });
  return createSqlStore({ db, flavour: sqliteFlavour, files: createFileBlobStore(options.blobDir), clock: options.clock ?? systemClock, retentionYears: options.retentionYears });
}

/**
 * Kysely's SQLite driver opens transactions with a plain (deferred) BEGIN, which takes the write lock
 * only at the first write: two processes that both read first then deadlock on the upgrade, and
 * busy_timeout cannot help. BEGIN IMMEDIATE takes the write lock up front, so writers queue up.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
