import type { Command } from 'commander';
import { deadLetterView } from '../api/index.js';
import { loadConfig } from '../config/index.js';
import { QerdsError, systemClock } from '../core/index.js';
import { createStore, type Store } from '../store/index.js';

/**
 * `qerds dead-letters list|replay <id>`: the operator's view of jobs whose stage gave up, straight on
 * the configured store (no running AP needed). A replayed job is picked up by the next outbox poll of
 * any running process of the AP.
 */
export function registerDeadLetters(program: Command): void {
  const command = program
    .command('dead-letters')
    .description('jobs whose stage gave up (retry budget spent): list and replay');
  command
    .command('list')
    .description('list dead letters, oldest first')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option('-n, --limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { config?: string; limit: string; json?: boolean }) => {
      await withStore(opts.config, async (store) => {
        const letters = (await store.listDeadLetters({ limit: Number(opts.limit) || 100 })).map(
          deadLetterView,
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
          return;
        }
        if (letters.length === 0) {
          process.stdout.write('no dead letters\n');
          return;
        }
        for (const d of letters) {
          process.stdout.write(
            `${d.id}\t${d.stage}\t${d.messageId}\tattempts ${d.attempts}\t${d.lastError ?? '-'}\tdead since ${d.deadAt}\n`,
          );
        }
      });
    });
  command
    .command('replay <id>')
    .description('make a dead letter due again, attempts reset to 0')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .action(async (id: string, opts: { config?: string }) => {
      const n = Number(id);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new QerdsError('CONFIG_INVALID', `dead letter id must be a positive integer, got "${id}"`);
      await withStore(opts.config, async (store) => {
        if (!(await store.replayDeadLetter(n, systemClock.now())))
          throw new QerdsError('NOT_FOUND', `no dead letter ${n}`);
        process.stdout.write(`dead letter ${n} replayed: due now, attempts reset\n`);
      });
    });
}

async function withStore(
  configFile: string | undefined,
  work: (store: Store) => Promise<void>,
): Promise<void> {
  const config = loadConfig({ file: configFile });
  const store = await createStore(config.store);
  try {
    await store.migrate();
    await work(store);
  } finally {
    await store.close();
  }
}
