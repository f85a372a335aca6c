import type { Command } from 'commander';
import { createAccessPoint } from '../access-point.js';
import { accessPointInternals } from '../access-point/internals.js';
import { loadConfig } from '../config/index.js';
import { installProcessGuard } from './process-guard.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run an access point (API, AS4 endpoint, pipeline workers) until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option('--no-workers', 'serve the API only; `qerds worker` processes run the jobs (needs queue.kind bullmq)')
    .action(async (opts: { config?: string; workers: boolean }) => {
      const config = loadConfig({ file: opts.config });
      const ap = await createAccessPoint(config, { workers: opts.workers });
      installProcessGuard(accessPointInternals(ap).context.log);
      await ap.start();
      process.stdout.write(`qerds-ap "${config.ap.name}" listening on ${ap.url} (AS4 ${ap.url}/as4)\n`);
      const stop = async () => {
        await ap.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
