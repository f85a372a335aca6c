#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isQerdsError } from '../core/index.js';
import { commandFor, lazyCommands } from './lazy-commands.js';

/**
 * The `qerds` command. Exit codes: 0 success / valid, 1 invalid or failed (an AP's refusal, an unreachable AP),
 * 2 usage or configuration error, 3 `send --wait` still waiting when its --timeout passed.
 */
const program = new Command()
  .name('qerds')
  .description('qerds-ap: access point for qualified electronic registered delivery (ETSI EN 319 522, AS4)')
  .version('0.1.0')
  .exitOverride();

// Only the module of the command being run is loaded (each pulls in a large part of the code base: loading
// them all made `qerds --help` take seconds); the others are listed by name and description for help.
const wanted = commandFor(process.argv.slice(2));
for (const command of lazyCommands) {
  if (command.names.includes(wanted ?? '')) (await command.load())(program);
  else
    for (const [name, description] of Object.entries(command.descriptions))
      program.command(name).description(description);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (isQerdsError(error)) {
    process.stderr.write(`qerds: ${error.code}: ${error.message}\n`);
    process.exitCode = error.code === 'CONFIG_INVALID' ? 2 : 1;
  } else {
    // One line for the operator (the error and its causes); the stack only on request.
    process.stderr.write(
      `qerds: ${oneLine(error)}${process.env.QERDS_DEBUG ? '' : ' (QERDS_DEBUG=1 shows the stack)'}\n`,
    );
    if (process.env.QERDS_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

/** An error and the chain of its causes as one line: `fetch failed: connect ECONNREFUSED 127.0.0.1:1`. */
function oneLine(error: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = error, depth = 0;
    e !== undefined && e !== null && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const text = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(': ') || 'unknown error';
}
