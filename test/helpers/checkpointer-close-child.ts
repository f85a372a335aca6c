/**
 * Child process of test/store/sqlite-checkpointer.test.ts: starts a checkpointer on the SQLite file given on the
 * command line, asks for a checkpoint and, with its answer still to come, closes the checkpointer as the process's
 * last task; then says so on stdout. argv: <sqlite file>.
 */
import { startWalCheckpointer } from '../../src/store/sqlite-checkpointer.js';

const [file] = process.argv.slice(2) as [string];
const checkpointer = startWalCheckpointer({
  file,
  wroteSince: () => false,
  onStart: () => undefined,
  onExit: () => undefined,
});
const answer = checkpointer.checkpoint();
await checkpointer.close();
process.stdout.write(`closed ${JSON.stringify(await answer)}\n`);
