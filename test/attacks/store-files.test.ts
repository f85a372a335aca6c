import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/index.js';

/** The SQLite files are 0600 like the keys, not 0644: readable by every local user they would leak messages and evidence. */
describe('SQLite store files', () => {
  it('creates the database, -wal and -shm files 0600 in a 0700 directory, and still works', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qerds-store-mode-')), 'data');
    const file = join(dir, 'qerds.db');
    const store = createSqliteStore({ file, blobDir: join(dir, 'blobs') });
    await store.migrate();
    // A write makes SQLite create the WAL and the shared-memory index.
    expect((await store.listInbox({ recipient: '0188:1', states: ['received'] })).messages).toEqual([]);
    for (const path of [file, `${file}-wal`, `${file}-shm`])
      expect(statSync(path).mode & 0o777, path).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await store.close();
  });
});
