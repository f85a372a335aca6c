import { open } from 'node:fs/promises';
import type { SqliteDatabase } from 'kysely';
import { QerdsError } from '../core/index.js';
import type { Store } from './types.js';

/** Makes what one SQLite connection committed durable, many commits per fsync, off the event loop. */
export interface WalSync {
  /** Resolves once everything the connection changed before the call is on disk (the WAL fsynced). */
  durable(): Promise<void>;
}

export interface WalSyncOptions {
  /** The database's write-ahead log, `<file>-wal`. */
  readonly walFile: string;
  /**
   * The rows the connection has inserted, updated or deleted since it opened (`total_changes()`) that need a sync:
   * non-decreasing; the unsynced calls' changes may be left out (UnsyncedChanges).
   */
  readonly changes: () => number;
  /** @defaultValue open, fsync and close `walFile` (libuv's thread pool: the event loop goes on meanwhile) */
  readonly sync?: (walFile: string) => Promise<void>;
}

/**
 * Group commit for a connection at `synchronous = NORMAL`, where SQLite appends commits to the WAL without an fsync.
 * `durable()` runs one fsync of the WAL for every caller that comes while none is running; one that comes while a
 * sync runs which began before its changes waits for the next, shared by all who come meanwhile. An fsync covers
 * every write to the file made before it began, whatever file descriptor made it. The WAL is opened afresh for each
 * sync, so a WAL that SQLite replaced (all connections closed) is never synced through a stale descriptor.
 */
export function createWalSync(options: WalSyncOptions): WalSync {
  const sync = options.sync ?? syncFile;
  let covered = options.changes();
  let current: { readonly upTo: number; readonly done: Promise<void> } | undefined;
  let queued: Promise<void> | undefined;

  const round = (): Promise<void> => {
    const upTo = options.changes();
    const done: Promise<void> = sync(options.walFile)
      .then(() => {
        covered = Math.max(covered, upTo);
      })
      .finally(() => {
        if (current?.done === done) current = undefined;
      });
    current = { upTo, done };
    return done;
  };

  return {
    async durable() {
      const target = options.changes();
      while (covered < target) {
        if (!current) await round();
        else if (current.upTo >= target) await current.done;
        else {
          // The sync in flight began before these changes: the next one, after it, for everyone who comes meanwhile.
          queued ??= current.done
            .catch(() => undefined)
            .then(() => {
              queued = undefined;
              return current ? current.done : round();
            });
          await queued;
        }
      }
    },
  };
}

async function syncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    // No WAL yet: nothing was ever written through it.
    if ((cause as { code?: string }).code === 'ENOENT') return;
    throw walSyncFailed(path, cause);
  }
  try {
    await handle.sync();
  } catch (cause) {
    throw walSyncFailed(path, cause);
  } finally {
    await handle.close();
  }
}

const walSyncFailed = (path: string, cause: unknown) =>
  new QerdsError('STORE_SYNC_FAILED', `could not sync the SQLite write-ahead log ${path} to disk`, { cause });

/**
 * Store calls that return without waiting for the disk: a lease renewal (lost, the entry is free sooner), bare
 * outbox completions (lost with the power, the job runs again, as after a crash just before it). Every other call,
 * read or write, returns only once every other commit made before it returned is on disk: a write would survive a
 * power cut (what `synchronous = FULL` gave, without an fsync per commit on the event loop), and no caller acts on or
 * shows a commit, its own or another's, that a power cut could still undo — but for what these unsynced calls changed,
 * which a caller may see undone by a power cut by design (a lease back to its old expiry, an entry back to run again).
 * So a read after a bare completion does not pay an fsync for it. The WAL is written in order: one sync covers all
 * commits before it, and an unsynced change is made durable by the next sync anyway.
 */
const unsyncedCalls: ReadonlySet<string> = new Set<keyof Store>([
  'renewOutboxLease',
  'completeOutbox',
  'completeOutboxEntries',
]);

/**
 * What the store's connection has committed that later calls must find on disk, counted in rows changed
 * (`total_changes()`), for WalSyncOptions.changes. Two things in the raw count must not be there:
 * - changes of a transaction still open: a sync that begins then does not cover its commit (the count stays where it
 *   was when the transaction began, until it ends);
 * - what the unsynced calls changed (renewOutboxLease, completeOutbox, completeOutboxEntries): left out, so a read
 *   after them pays no fsync. Each runs holding the connection (nothing else runs on it meanwhile), so the change of
 *   the count across it is its own, exactly.
 * The result never decreases: a sync's coverage and a call's target are compared on it.
 */
export interface CommittedChanges {
  /** Rows changed by committed work that needs a sync; never decreases. */
  needingSync(): number;
  /** `database` noting the count when each transaction begins (a statement is prepared right before it runs). */
  observing(database: SqliteDatabase): SqliteDatabase;
  /** Runs an unsynced call's `work`, which holds the connection: what it changes is left out of needingSync. */
  unsynced<T>(work: () => Promise<T>): Promise<T>;
}

export interface SqliteConnectionState {
  /** `select total_changes()` on the connection: rows inserted, updated or deleted since it opened. */
  readonly totalChanges: () => number;
  /** better-sqlite3's `inTransaction`. */
  readonly inTransaction: () => boolean;
}

const opensTransaction = /^\s*(?:begin|savepoint)\b/i;

export function trackCommittedChanges(connection: SqliteConnectionState): CommittedChanges {
  let excused = 0;
  /** The count when the open transaction began. */
  let atBegin = connection.totalChanges();
  /** needingSync while an unsynced call holds the connection: where it was when the call began. */
  let held: number | undefined;
  return {
    needingSync() {
      if (held !== undefined) return held;
      return (connection.inTransaction() ? atBegin : connection.totalChanges()) - excused;
    },
    observing: (database) => ({
      prepare(sql: string) {
        // What opens a transaction (BEGIN, or SAVEPOINT outside one), sampled just before it runs.
        if (opensTransaction.test(sql) && !connection.inTransaction()) atBegin = connection.totalChanges();
        return database.prepare(sql);
      },
      close: () => database.close(),
    }),
    async unsynced(work) {
      const before = connection.totalChanges();
      held = before - excused;
      try {
        return await work();
      } finally {
        excused += connection.totalChanges() - before;
        held = undefined;
      }
    },
  };
}

/**
 * `store` with every call but the unsynced ones made durable by `wal` (blobs and close as they are); the unsynced
 * ones run as the store runs them (createSqliteStore counts their changes apart: CommittedChanges).
 */
export function withGroupCommit(store: Store, wal: WalSync): Store {
  const wrapped: Record<string, unknown> = { ...store };
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function' || name === 'close' || unsyncedCalls.has(name)) continue;
    const call = member as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      const result = await call.apply(store, args);
      await wal.durable();
      return result;
    };
  }
  return wrapped as unknown as Store;
}
