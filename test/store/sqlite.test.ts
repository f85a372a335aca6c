import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/store/index.js';
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
});
