import { AsyncLocalStorage } from 'node:async_hooks';
import { open } from 'node:fs/promises';
import type { Statement } from 'better-sqlite3';
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
 * The rows changed by statements the unsynced store calls ran: counted exactly, statement by statement, so that they
 * can be left out of what a synced call waits for (WalSyncOptions.changes is the connection's count minus these).
 */
export interface UnsyncedChanges {
  /** Rows changed so far by statements run inside `during`. */
  readonly count: number;
  /** Runs `call` with every statement it runs (across its awaits) counted as unsynced. */
  during<T>(call: () => Promise<T>): Promise<T>;
  /** `database` whose statements, when run inside `during`, add the rows they changed to `count`. */
  counting(database: SqliteDatabase): SqliteDatabase;
}

/**
 * UnsyncedChanges over the connection's `total_changes()`. better-sqlite3 runs a statement synchronously on the one
 * connection, so the count read just before and just after it is that statement's alone (triggers included), whatever
 * else is in flight; the statements of an unsynced call are known by the async context they run in.
 */
export function countUnsyncedChanges(totalChanges: () => number): UnsyncedChanges {
  const scope = new AsyncLocalStorage<true>();
  let count = 0;
  const counted =
    <A extends unknown[], R>(run: (...args: A) => R) =>
    (...args: A): R => {
      const before = totalChanges();
      try {
        return run(...args);
      } finally {
        count += totalChanges() - before;
      }
    };
  // What Kysely's SQLite driver uses of a statement (reader, run, all; iterate only for a streamed select).
  const measuring = (statement: Statement): Statement =>
    ({
      reader: statement.reader,
      run: counted(statement.run.bind(statement)),
      all: counted(statement.all.bind(statement)),
      get: counted(statement.get.bind(statement)),
      iterate: statement.iterate.bind(statement),
    }) as unknown as Statement;
  return {
    get count() {
      return count;
    },
    during: (call) => scope.run(true, call),
    counting: (database) => ({
      prepare: (sql: string) => {
        const statement = database.prepare(sql) as Statement;
        return scope.getStore() ? measuring(statement) : statement;
      },
      close: () => database.close(),
    }),
  };
}

/**
 * `store` with every call but the unsynced ones made durable by `wal` (blobs and close as they are). The unsynced
 * calls run inside `unsynced.during`, so that their changes are not waited for by later calls.
 */
export function withGroupCommit(store: Store, wal: WalSync, unsynced?: UnsyncedChanges): Store {
  const wrapped: Record<string, unknown> = { ...store };
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function' || name === 'close') continue;
    const call = member as (...args: unknown[]) => Promise<unknown>;
    if (unsyncedCalls.has(name)) {
      if (unsynced) wrapped[name] = (...args: unknown[]) => unsynced.during(() => call.apply(store, args));
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      const result = await call.apply(store, args);
      await wal.durable();
      return result;
    };
  }
  return wrapped as unknown as Store;
}
