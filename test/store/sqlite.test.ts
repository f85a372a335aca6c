import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { openSqliteDatabase } from '../../src/store/sqlite-store.js';
import { describeStoreConformance } from './store-conformance.js';

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
      id,
      ebmsMessageId: `${id}@test`,
      role: 'sender-ap' as const,
      state: 'submitted' as const,
      sender: { scheme: '0188', value: '1' },
      recipient: { scheme: '0188', value: '2' },
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
      submittedAt: new Date(),
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

  it('syncs every commit (synchronous FULL), also on a file already in WAL mode, where better-sqlite3 would open it NORMAL', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-store-sync-'));
    const file = join(dir, 'qerds.sqlite');
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    // The file is in WAL mode now: a plain connection opened on it gets the build's WAL default.
    other = new Database(file);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(other.pragma('synchronous', { simple: true })).toBe(1);
    other.close();
    // The store's own connection, opened the same way the store opens it.
    other = openSqliteDatabase(file, 1000);
    expect(other.pragma('synchronous', { simple: true })).toBe(2);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(other.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
