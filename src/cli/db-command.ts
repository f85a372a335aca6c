import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { createStore } from '../store/index.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending store migrations (SQLite or PostgreSQL, as configured) and exit')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .action(async (opts: { config?: string }) => {
      const config = loadConfig({ file: opts.config });
      const store = await createStore(config.store);
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      const where =
        config.store.kind === 'postgres'
          ? `${redact(config.store.postgresUrl)} schema ${config.store.postgresSchema}`
          : config.store.sqliteFile;
      process.stdout.write(`store migrated (${config.store.kind}: ${where})\n`);
    });
}

/** The password of a connection string stays out of terminals and logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
