import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDialectConfig,
} from 'kysely';
import { QerdsError, systemClock, type Clock } from '../core/index.js';
import { createFileBlobStore } from './file-blob-store.js';
import { sqliteFlavour } from './flavour.js';
import type { StoreDatabase } from './schema.js';
import { createSqlStore } from './sql-store.js';
import { startWalCheckpointer } from './sqlite-checkpointer.js';
import {
  createWalSync,
  trackCommittedChanges,
  withGroupCommit,
  type CommittedChanges,
} from './sqlite-group-commit.js';
import { cachingStatements } from './sqlite-statement-cache.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** Database file, created with its directory when missing; `:memory:` for a throw-away store. */
  readonly file: string;
  /** Directory of payload blobs. */
  readonly blobDir: string;
  /**
   * Largest payload blob whose bytes the database holds (written with the message that names it, no file);
   * 0: every blob is a file. @defaultValue 65536
   */
  readonly inlineBlobMaxBytes?: number | undefined;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Years an evidence is kept after its event time: deleteEvidence refuses before. @defaultValue 10 */
  readonly retentionYears?: number;
  /** How long a writer waits for another process's write lock, in ms. @defaultValue 5000 */
  readonly busyTimeoutMs?: number;
  /**
   * Take the store for this process alone (an access point: `qerds start`, `qerds worker`): a second one
   * opening the same file is refused with STORE_LOCKED. Short-lived tools (`qerds dead-letters`, `db`) do
   * not ask for it and may open the store beside the running AP. @defaultValue false
   */
  readonly exclusive?: boolean;
  /** Tests: how the write-ahead log is synced to disk. @defaultValue fsync (sqlite-group-commit.ts) */
  readonly syncWal?: (walFile: string) => Promise<void>;
}

/** The embedded store: one SQLite file (better-sqlite3) plus a blob directory. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.file !== ':memory:') createPrivateFile(options.file);
  const lock = options.exclusive && options.file !== ':memory:' ? holdExclusiveLock(options.file) : undefined;
  const database = openSqliteDatabase(options.file, options.busyTimeoutMs ?? 5000);
  // A :memory: database has no disk to wait for.
  const committed = options.file === ':memory:' ? undefined : committedChangesOf(database);
  const statements = cachingStatements(database);
  const db = new Kysely<StoreDatabase>({
    dialect: new ImmediateSqliteDialect({
      database: committed ? committed.observing(statements) : statements,
    }),
  });
  const sqlStore = createSqlStore({
    db,
    flavour: sqliteFlavour,
    files: createFileBlobStore(options.blobDir),
    inlineBlobMaxBytes: options.inlineBlobMaxBytes,
    clock: options.clock ?? systemClock,
    retentionYears: options.retentionYears,
    // Holding the connection: nothing else runs on it until the call's change is counted.
    ...(committed
      ? { unsynced: (work) => db.connection().execute((held) => committed.unsynced(() => work(held))) }
      : {}),
  });
  const checkpoints = committed ? offThreadCheckpoints(database, options.file, committed) : undefined;
  const synced = committed
    ? withGroupCommit(
        sqlStore,
        createWalSync({
          walFile: `${options.file}-wal`,
          changes: committed.needingSync,
          ...(options.syncWal ? { sync: options.syncWal } : {}),
        }),
      )
    : sqlStore;
  if (!lock && !checkpoints) return synced;
  return {
    ...synced,
    async close() {
      // The thread's connection first: the store's, closing last, checkpoints what is left.
      await checkpoints?.close();
      await synced.close();
      lock?.close();
    },
  };
}

/**
 * The store's WAL checkpoints on a thread of their own (sqlite-checkpointer.ts) rather than inside a COMMIT on the
 * event loop; the connection checkpoints by itself (SQLite's default, 1000 pages) before the thread starts and after
 * it died, and at 10 000 pages while it runs.
 */
function offThreadCheckpoints(database: Database.Database, file: string, committed: CommittedChanges) {
  let seen = committed.needingSync();
  return startWalCheckpointer({
    file,
    wroteSince: () => {
      const now = committed.needingSync();
      const moved = now !== seen;
      seen = now;
      return moved;
    },
    // Backstop: a thread that falls behind (its passive checkpoints copying less than is written) lets the WAL grow
    // to ten times SQLite's default at most before the connection checkpoints by itself.
    onStart: () => database.pragma('wal_autocheckpoint = 10000'),
    onExit: () => {
      if (database.open) database.pragma('wal_autocheckpoint = 1000');
    },
  });
}

/** What the store's connection committed that needs a sync, read off its change counter (group commit). */
function committedChangesOf(database: Database.Database) {
  const totalChanges = database.prepare('select total_changes()').pluck();
  return trackCommittedChanges({
    totalChanges: () => totalChanges.get() as number,
    inTransaction: () => database.inTransaction,
  });
}

/**
 * The store's connection to its SQLite file. WAL: readers do not block the writer. synchronous NORMAL, set explicitly
 * (better-sqlite3's build default in WAL mode, but a file in another journal mode would open FULL): SQLite appends a
 * commit to the WAL without an fsync (and syncs at checkpoints, which run on a thread: sqlite-checkpointer.ts). A
 * committed message or evidence must survive a power cut (an acknowledged submission, or the only proof of an event):
 * the store syncs the WAL itself before a write returns and before anything is read (sqlite-group-commit.ts), one
 * fsync for many commits, off the event loop.
 * better-sqlite3 runs synchronously: with FULL, each commit's fsync stopped the event loop, about ten per message.
 */
export function openSqliteDatabase(file: string, busyTimeoutMs: number): Database.Database {
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  return database;
}

/**
 * Two access points on one SQLite file would both run the pipeline's jobs on a store made for one process
 * (and an operator who started a second one by mistake would not notice). The lock is a second SQLite file,
 * `<file>.lock`, held in EXCLUSIVE locking mode: the operating system's file lock, which it drops when the
 * process ends however it ends, so a crash leaves no stale lock behind.
 */
function holdExclusiveLock(file: string): Database.Database {
  const path = `${file}.lock`;
  createPrivateFile(path);
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE mode it is held until the connection closes.
    lock.exec('create table if not exists holder (pid integer, at text); delete from holder');
    lock.prepare('insert into holder values (?, ?)').run(process.pid, new Date().toISOString());
    return lock;
  } catch (cause) {
    lock.close();
    if ((cause as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new QerdsError(
        'STORE_LOCKED',
        `the SQLite store ${file} is already open in another qerds-ap process (lock ${path}): SQLite serves one access point process; stop the other one, or use store.kind postgres to run several`,
        { cause },
      );
    }
    throw cause;
  }
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
