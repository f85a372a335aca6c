import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QerdsError } from '../../src/core/index.js';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { openSqliteDatabase } from '../../src/store/sqlite-store.js';
import { describeStoreConformance } from './store-conformance.js';
import { storedMessage } from '../helpers/stored-message.js';

// A file, not :memory:, so that a sibling store really opens a second connection to the same database.
describeStoreConformance('SQLite (better-sqlite3)', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-store-'));
  const file = join(dir, 'db', 'qerds.sqlite');
  const blobDir = join(dir, 'blobs');
  const open = () => createSqliteStore({ file, blobDir, clock });
  const opened: Store[] = [];
  const store = open();
  opened.push(store);
  await store.migrate();
  return {
    store,
    blobDir,
    siblingIsConcurrent: false,
    async openSibling() {
      const sibling = open();
      opened.push(sibling);
      return sibling;
    },
    async dispose() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeStoreConformance('SQLite (:memory:)', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-store-mem-'));
  const blobDir = join(dir, 'blobs');
  const store = createSqliteStore({ file: ':memory:', blobDir, clock });
  await store.migrate();
  return {
    store,
    blobDir,
    siblingIsConcurrent: false,
    // A :memory: database has no second connection: the sibling is the store itself.
    openSibling: async () => store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite specifics', () => {
  let dir: string;
  let store: Store;
  let other: Database.Database;

  afterEach(async () => {
    other?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the write lock as a transaction begins (BEGIN IMMEDIATE), so other writers queue instead of deadlocking', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-lock-'));
    const file = join(dir, 'qerds.sqlite');
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    // Another process, as it were, that does not wait for locks.
    other = new Database(file);
    other.pragma('busy_timeout = 0');
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    await store.transaction(async () => {
      // Nothing written yet, but the write lock is already ours.
      expect(() => other.prepare('begin immediate').run()).toThrow(/locked|busy/i);
    });
    other.prepare('begin immediate').run();
    other.prepare('rollback').run();
  });

  it("records a blob's row with the message that names it, in its transaction; a put alone, or a rolled-back message, records none", async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-blobs-'));
    const file = join(dir, 'qerds.sqlite');
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    other = new Database(file);
    const rows = () => other.prepare('select sha256, size from blobs order by size').all();
    const ciphertext = await store.blobs.put(Buffer.from('ciphertext of the part'));
    const plaintext = await store.blobs.put(Buffer.from('plain'));
    // A put whose message never comes (a refused upload, a crash before the insert): a file for the sweep, no row.
    expect(rows()).toEqual([]);
    const message = (id: string) => ({
      ...storedMessage(id),
      parts: [
        {
          partId: 'p1',
          contentType: 'application/cms',
          sha256: ciphertext.sha256,
          size: ciphertext.size,
          plaintextSha256: plaintext.sha256,
          plaintextSize: plaintext.size,
        },
      ],
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.insertMessage(message('m-1'));
        throw new Error('refused after the insert');
      }),
    ).rejects.toThrow('refused after the insert');
    expect(rows()).toEqual([]);
    await store.transaction((tx) => tx.insertMessage(message('m-2')));
    expect(rows()).toEqual([
      { sha256: plaintext.sha256, size: plaintext.size },
      { sha256: ciphertext.sha256, size: ciphertext.size },
    ]);
    // A second message with the same content: the rows are there once.
    await store.transaction((tx) => tx.insertMessage(message('m-3')));
    expect(rows()).toHaveLength(2);
  });

  it("writes a small blob's bytes into its row with the message, a large one's as a file; inlineBlobMaxBytes 0: all files", async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-inline-'));
    const file = join(dir, 'qerds.sqlite');
    const blobDir = join(dir, 'blobs');
    store = createSqliteStore({ file, blobDir, inlineBlobMaxBytes: 100 });
    await store.migrate();
    other = new Database(file);
    const rows = () =>
      other.prepare('select size, content from blobs order by size').all() as {
        size: number;
        content: Buffer | null;
      }[];
    const small = Buffer.alloc(100, 's');
    const large = Buffer.alloc(101, 'l');
    const stored = await Promise.all([small, large].map((bytes) => store.blobs.put(bytes)));
    expect(stored.map((b) => b.inline)).toEqual([true, false]);
    await store.transaction((tx) =>
      tx.insertMessage({
        id: 'm-inline',
        ebmsMessageId: 'm-inline@test',
        role: 'sender-ap',
        state: 'submitted',
        sender: { scheme: '0188', value: '1' },
        recipient: { scheme: '0188', value: '2' },
        parts: stored.map((b, i) => ({
          partId: `p${i}`,
          contentType: 'text/plain',
          sha256: b.sha256,
          size: b.size,
        })),
        submittedAt: new Date(),
      }),
    );
    expect(rows()).toEqual([
      { size: 100, content: small },
      { size: 101, content: null },
    ]);
    expect(readdirSync(blobDir, { recursive: true }).filter((f) => String(f).length > 3)).toEqual([
      join(stored[1]!.sha256.slice(0, 2), stored[1]!.sha256),
    ]);
    await store.close();
    // 0: no blob is held in the database, not even the empty one.
    store = createSqliteStore({ file: join(dir, 'files.sqlite'), blobDir, inlineBlobMaxBytes: 0 });
    await store.migrate();
    expect(await store.blobs.put(Buffer.alloc(0))).toMatchObject({ size: 0, inline: false });
    expect(await store.blobs.put(Buffer.alloc(5))).toMatchObject({ size: 5, inline: false });
  });

  it('finds due outbox entries through the live-entries index, in lease order: no walk over every live entry, no sort', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-plan-'));
    const file = join(dir, 'qerds.sqlite');
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.transaction(async (tx) => {
      await tx.insertMessage(storedMessage('m-1'));
      for (let i = 0; i < 3; i++) await tx.enqueue('relay', 'm-1');
    });
    // The SQL the store prepares for a lease (a fresh store: none of it is cached yet).
    const prepared: string[] = [];
    const prepare = Database.prototype.prepare;
    const spy = vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (
      this: Database.Database,
      sql: string,
    ) {
      prepared.push(sql);
      return prepare.call(this, sql);
    } as typeof prepare);
    try {
      expect(await store.leaseOutbox(8, 30_000, new Date())).toHaveLength(3);
    } finally {
      spy.mockRestore();
    }
    other = new Database(file, { readonly: true });
    const plans = prepared
      .filter((sql) => /from "outbox" where "not_before"/.test(sql))
      .map((sql) =>
        other
          .prepare(`explain query plan ${sql}`)
          .all(...Array<null>((sql.match(/\?/g) ?? []).length).fill(null))
          .map((row) => (row as { detail: string }).detail)
          .join('; '),
      );
    // The read that answers "anything due?" and the lease's UPDATE … WHERE id IN (SELECT … ORDER BY … LIMIT).
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan).toContain('USING INDEX outbox_live_due_idx');
      expect(plan).not.toContain('TEMP B-TREE');
    }
  });

  it('opens at synchronous NORMAL in WAL mode whatever the file was: the store syncs the WAL itself (group commit)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-sync-'));
    const file = join(dir, 'qerds.sqlite');
    // A file left in rollback-journal mode, where a plain connection opens FULL.
    other = new Database(file);
    other.pragma('journal_mode = DELETE');
    expect(other.pragma('synchronous', { simple: true })).toBe(2);
    other.close();
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    other = openSqliteDatabase(file, 1000);
    expect(other.pragma('synchronous', { simple: true })).toBe(1);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(other.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  describe('group commit: a write returns, and a read runs, only once the WAL is synced', () => {
    /** A store whose WAL syncs wait until the test lets them finish, one by one. */
    async function storeWithHeldSyncs() {
      dir = mkdtempSync(join(tmpdir(), 'qerds-store-group-'));
      const syncs: Array<{ walFile: string; finish: () => void }> = [];
      let arrived: (() => void) | undefined;
      store = createSqliteStore({
        file: join(dir, 'qerds.sqlite'),
        blobDir: join(dir, 'blobs'),
        syncWal: (walFile) =>
          new Promise<void>((resolve) => {
            syncs.push({ walFile, finish: resolve });
            arrived?.();
          }),
      });
      /** The next sync to be asked for (one already waiting, or the next to come). */
      const nextSync = async () => {
        while (syncs.length === 0) await new Promise<void>((r) => (arrived = r));
        return syncs.shift()!;
      };
      const migrated = store.migrate();
      (await nextSync()).finish(); // the migrations' own writes
      await migrated;
      return { nextSync, pending: () => syncs.length };
    }
    const message = storedMessage;
    /** Whether `promise` has settled once everything already queued has run. */
    const settled = async (promise: Promise<unknown>) => {
      let done = false;
      void promise.then(
        () => (done = true),
        () => (done = true),
      );
      await new Promise((r) => setImmediate(r));
      return done;
    };

    it('a commit waits for its sync; commits that come during one share the next; a read waits for what it may have seen', async () => {
      const { nextSync, pending } = await storeWithHeldSyncs();
      const first = store.transaction((tx) => tx.insertMessage(message('m-1')));
      const sync1 = await nextSync();
      expect(sync1.walFile).toBe(join(dir, 'qerds.sqlite-wal'));
      expect(await settled(first)).toBe(false);
      // Committed (another connection sees it), not yet reported: its sync has not finished.
      other = new Database(join(dir, 'qerds.sqlite'));
      expect(other.prepare('select id from messages').all()).toEqual([{ id: 'm-1' }]);
      // A read sees m-1 and must not show it before it is on disk.
      const read = store.getMessage('m-1');
      // Two more commits while the first sync runs: they need one that begins after them, and share it.
      const second = store.transaction((tx) => tx.insertMessage(message('m-2')));
      const third = store.transaction((tx) => tx.insertMessage(message('m-3')));
      await new Promise((r) => setImmediate(r));
      expect(await settled(read)).toBe(false);
      expect(await settled(Promise.all([second, third]))).toBe(false);
      sync1.finish();
      await first;
      const sync2 = await nextSync();
      expect(await settled(Promise.all([second, third, read]))).toBe(false);
      sync2.finish();
      await Promise.all([second, third, read]);
      expect((await read)?.id).toBe('m-1');
      expect(pending()).toBe(0);
      // Nothing changed since: a read needs no sync.
      expect((await store.getMessage('m-3'))?.id).toBe('m-3');
    });

    it('an outbox lease waits for its sync; renewals and bare completions do not, nor do the calls after them', async () => {
      const { nextSync, pending } = await storeWithHeldSyncs();
      const step = store.transaction(async (tx) => {
        await tx.insertMessage(message('m-1'));
        await tx.enqueue('relay', 'm-1');
      });
      (await nextSync()).finish();
      await step;
      // The jobs a lease hands out act on durable rows: it returns once a sync covers what it read.
      const lease = store.leaseOutbox(1, 30_000, new Date());
      const sync2 = await nextSync();
      expect(await settled(lease)).toBe(false);
      sync2.finish();
      const [entry] = await lease;
      expect(entry?.messageId).toBe('m-1');
      expect(await store.renewOutboxLease(entry!.id, entry!.leaseToken!, 30_000, new Date())).toBe(true);
      expect(await store.completeOutbox(entry!.id, entry!.leaseToken)).toBe(true);
      // What they changed is not waited for by the calls after them either: this read needs no sync.
      const read = store.getMessage('m-1');
      expect(await settled(read)).toBe(true);
      expect((await read)?.state).toBe('submitted');
      expect(pending()).toBe(0);
      // A read still waits for a synced commit it may have seen, and that sync covers the unsynced ones before it.
      const write = store.transaction((tx) => tx.insertMessage(message('m-2')));
      const sync3 = await nextSync();
      const sees = store.getMessage('m-2');
      expect(await settled(sees)).toBe(false);
      expect(await store.completeOutboxEntries([{ id: entry!.id }])).toEqual(new Set());
      sync3.finish();
      await write;
      expect((await sees)?.id).toBe('m-2');
      expect(pending()).toBe(0);
    });

    it('a sync that begins while a transaction is open does not count for its commit', async () => {
      const { nextSync, pending } = await storeWithHeldSyncs();
      const first = store.transaction((tx) => tx.insertMessage(message('m-1')));
      const sync1 = await nextSync();
      // Committed during sync 1: it queues the next sync, which begins when sync 1 ends.
      const second = store.transaction((tx) => tx.insertMessage(message('m-2')));
      await new Promise((r) => setImmediate(r));
      // A transaction that has written but not committed when that next sync begins.
      let commit!: () => void;
      const open = store.transaction(async (tx) => {
        await tx.insertMessage(message('m-3'));
        await new Promise<void>((r) => (commit = r));
      });
      while (!commit) await new Promise((r) => setImmediate(r));
      sync1.finish();
      await first;
      const sync2 = await nextSync();
      commit();
      await new Promise((r) => setImmediate(r));
      sync2.finish();
      await second;
      // Sync 2 began before m-3 was committed: the transaction needs a sync of its own.
      expect(await settled(open)).toBe(false);
      (await nextSync()).finish();
      await open;
      expect(pending()).toBe(0);
    });

    it('a failed sync fails the write that waited for it (retryable), and the next one syncs again', async () => {
      dir = mkdtempSync(join(tmpdir(), 'qerds-store-group-fail-'));
      let fail = false;
      store = createSqliteStore({
        file: join(dir, 'qerds.sqlite'),
        blobDir: join(dir, 'blobs'),
        syncWal: async () => {
          if (fail) throw new QerdsError('STORE_SYNC_FAILED', 'disk said no');
        },
      });
      await store.migrate();
      fail = true;
      await expect(store.transaction((tx) => tx.insertMessage(message('m-1')))).rejects.toMatchObject({
        code: 'STORE_SYNC_FAILED',
      });
      fail = false;
      expect((await store.getMessage('m-1'))?.id).toBe('m-1');
    });
  });
});
