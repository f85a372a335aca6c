/**
 * Child process of test/store/sqlite-checkpointer.test.ts: opens the SQLite store given on the command line, commits
 * a message, waits until its checkpoint thread has copied it into the database file, closes the store as the
 * process's last task, then says so on stdout.
 * argv: <sqlite file> <blob dir>.
 */
import { copyFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/store/index.js';
import { storedMessage } from './stored-message.js';

const [file, blobDir] = process.argv.slice(2) as [string, string];
const store = createSqliteStore({ file, blobDir });
await store.migrate();
await store.transaction((tx) => tx.insertMessage(storedMessage('m-close')));
// Until the checkpoint thread has copied the message into the database file itself: the thread runs.
for (;;) {
  const copy = `${file}.copy`;
  copyFileSync(file, copy);
  const found = (() => {
    try {
      const db = new Database(copy, { readonly: true });
      try {
        return db.prepare("select count(*) as n from messages where id = 'm-close'").pluck().get() === 1;
      } finally {
        db.close();
      }
    } catch {
      return false;
    }
  })();
  rmSync(copy, { force: true });
  if (found) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await store.close();
process.stdout.write('closed\n');
