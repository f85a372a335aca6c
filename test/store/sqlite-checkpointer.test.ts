import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startWalCheckpointer, type WalCheckpointer } from '../../src/store/sqlite-checkpointer.js';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { openSqliteDatabase } from '../../src/store/sqlite-store.js';
import { waitFor } from '../helpers/wait.js';
import { storedMessage } from '../helpers/stored-message.js';

/**
 * WAL checkpoints on a thread of their own: what a connection committed reaches the database file itself (a copy of
 * the file without its WAL holds it) while that connection never checkpoints; a thread that dies hands checkpoints
 * back to the connection.
 */
describe('SQLite checkpoints off the event loop', () => {
  let dir: string;
  let writer: Database.Database | undefined;
  let checkpointer: WalCheckpointer | undefined;
  let store: Store | undefined;

  afterEach(async () => {
    await checkpointer?.close();
    await store?.close();
    writer?.close();
    [checkpointer, store, writer] = [undefined, undefined, undefined];
    rmSync(dir, { recursive: true, force: true });
  });

  /** The rows of `table` in a copy of the database file alone (its WAL left behind); undefined if unreadable. */
  const rowsInFileAlone = (file: string, table: string): number | undefined => {
    const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.sqlite`);
    copyFileSync(file, copy);
    try {
      const db = new Database(copy, { readonly: true });
      try {
        return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return undefined; // no such table yet in the file, or a copy taken mid-checkpoint
    } finally {
      rmSync(copy, { force: true });
    }
  };

  it('copies the WAL into the database file on its thread; the writing connection never checkpoints', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-checkpoint-'));
    const file = join(dir, 'q.sqlite');
    writer = openSqliteDatabase(file, 1000);
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('create table t (v text)');
    const insert = writer.prepare('insert into t values (?)');
    for (let i = 0; i < 50; i++) insert.run(`row ${i}`);
    expect(rowsInFileAlone(file, 't')).toBeUndefined();
    const events: string[] = [];
    checkpointer = startWalCheckpointer({
      file,
      wroteSince: () => false,
      onStart: () => events.push('start'),
      onExit: (code) => events.push(`exit ${code}`),
    });
    const result = await checkpointer.checkpoint();
    expect(events).toEqual(['start']);
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    expect(rowsInFileAlone(file, 't')).toBe(50);
    // Writes after a full checkpoint restart the WAL; the next checkpoint copies them too.
    for (let i = 0; i < 5; i++) insert.run(`more ${i}`);
    const again = await checkpointer.checkpoint();
    expect(again.checkpointed).toBe(again.log);
    expect(rowsInFileAlone(file, 't')).toBe(55);
  });

  it('hands checkpoints back when its thread dies, and not when it is closed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-checkpoint-die-'));
    const file = join(dir, 'q.sqlite');
    writer = openSqliteDatabase(file, 1000);
    writer.exec('create table t (v text)');
    const exits: number[] = [];
    checkpointer = startWalCheckpointer({
      file,
      wroteSince: () => false,
      onStart: () => undefined,
      onExit: (code) => exits.push(code),
    });
    await checkpointer.checkpoint();
    await checkpointer.terminate();
    expect(exits).toHaveLength(1);
    await expect(checkpointer.checkpoint()).rejects.toThrow(/not running/);

    const closed: number[] = [];
    const other = startWalCheckpointer({
      file,
      wroteSince: () => false,
      onStart: () => undefined,
      onExit: (code) => closed.push(code),
    });
    await other.checkpoint();
    await other.close();
    expect(closed).toEqual([]);
  });

  it('a process whose last task is closing the store runs the close to its end (the thread does not let it exit early)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-checkpoint-exit-'));
    const file = join(dir, 'qerds.sqlite');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, '..', 'helpers', 'store-close-child.ts'),
      file,
      join(dir, 'blobs'),
    ]);
    expect(stdout).toBe('closed\n');
    // Closed cleanly: the last connection checkpointed everything and removed the WAL.
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(rowsInFileAlone(file, 'messages')).toBe(1);
  });

  it('closing with a checkpoint in flight, as the last task of a process, runs to its end', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-checkpoint-inflight-'));
    const file = join(dir, 'q.sqlite');
    writer = openSqliteDatabase(file, 1000);
    writer.exec('create table t (v text); insert into t values (1)');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, '..', 'helpers', 'checkpointer-close-child.ts'),
      file,
    ]);
    expect(stdout).toMatch(/^closed \{"busy":0,"log":\d+,"checkpointed":\d+\}\n$/);
  });

  it('the store: a committed message reaches the database file while the store is open, far below 1000 WAL pages', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-checkpoint-store-'));
    const file = join(dir, 'qerds.sqlite');
    store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.transaction((tx) => tx.insertMessage(storedMessage('m-1')));
    expect(existsSync(`${file}-wal`)).toBe(true);
    // The store's timer notices the write and its thread checkpoints it.
    expect(await waitFor(() => (rowsInFileAlone(file, 'messages') === 1 ? true : undefined))).toBe(true);
  });
});
