/**
 * Child process of test/store/inline-blob-crash.test.ts: opens the SQLite store given on the command line, puts two
 * small blobs, stores a message naming the first, says so on stdout and then waits to be killed (SIGKILL).
 * argv: <sqlite file> <blob dir> <hex of the named payload> <hex of the unnamed payload>.
 */
import { createSqliteStore } from '../../src/store/index.js';

const [file, blobDir, namedHex, unnamedHex] = process.argv.slice(2) as [string, string, string, string];
const store = createSqliteStore({ file, blobDir });
await store.migrate();
const named = await store.blobs.put(Buffer.from(namedHex, 'hex'));
const unnamed = await store.blobs.put(Buffer.from(unnamedHex, 'hex'));
await store.transaction((tx) =>
  tx.insertMessage({
    id: 'msg-crash',
    ebmsMessageId: 'msg-crash@test',
    role: 'recipient-ap',
    state: 'received',
    sender: { scheme: '0188', value: '1' },
    recipient: { scheme: '0188', value: '2' },
    parts: [{ partId: 'p1', contentType: 'application/xml', sha256: named.sha256, size: named.size }],
    submittedAt: new Date(),
  }),
);
// What a caller would acknowledge now (C3's receipt, C2's 201): the message is committed.
process.stdout.write(`committed ${named.sha256} ${unnamed.sha256}\n`);
setInterval(() => undefined, 60_000);
