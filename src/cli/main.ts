#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isQerdsError } from '../core/index.js';
import { registerDemo } from './demo-command.js';
import { registerPki } from './pki-command.js';
import { registerSend } from './send-command.js';
import { registerStart } from './start-command.js';
import { registerVerify } from './verify-command.js';
import { registerLookup } from './lookup-command.js';
import { registerWorker } from './worker-command.js';
import { registerDb } from './db-command.js';
import { registerDeadLetters } from './dead-letters-command.js';
import { registerCrypto } from './crypto-command.js';
import { registerExport } from './export-command.js';
import { registerArchive } from './archive-command.js';

/** The `qerds` command. Exit codes: 0 success / valid, 1 invalid or failed, 2 usage or configuration error. */
const program = new Command()
  .name('qerds')
  .description('qerds-ap: access point for qualified electronic registered delivery (ETSI EN 319 522, AS4)')
  .version('0.1.0')
  .exitOverride();

registerStart(program);
registerDemo(program);
registerPki(program);
registerSend(program);
registerVerify(program);
registerLookup(program);
registerWorker(program);
registerDb(program);
registerDeadLetters(program);
registerCrypto(program);
registerExport(program);
registerArchive(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (isQerdsError(error)) {
    process.stderr.write(`qerds: ${error.code}: ${error.message}\n`);
    process.exitCode = error.code === 'CONFIG_INVALID' ? 2 : 1;
  } else {
    process.stderr.write(`qerds: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
