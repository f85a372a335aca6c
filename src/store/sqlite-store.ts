import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import { systemClock, type Clock } from '../core/index.js';
import { createFileBlobStore } from './file-blob-store.js';
import { sqliteFlavour } from './flavour.js';
import type { StoreDatabase } from './schema.js';
import { createSqlStore } from './sql-store.js';
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
  if (options.file !== ':memory:') createPrivateFile(options.file);
  const database = new Database(options.file);
  // WAL: readers do not block the writer. synchronous stays FULL (the WAL default): a committed
  // evidence must survive a power cut, it may be the only proof of an event.
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  const db = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  return createSqlStore({ db, flavour: sqliteFlavour, files: createFileBlobStore(options.blobDir), clock: options.clock ?? systemClock, retentionYears: options.retentionYears });
}

/**
 * The database file (and its directory) readable by the owner only, like the keys: it holds every message's
 * metadata, the evidence and the pickup state (threat: other local users reading or copying them). SQLite creates
 * the -wal and -shm files with the database file's mode; files left by an older version are narrowed too.
 */
function createPrivateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
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
