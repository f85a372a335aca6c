import type { Command } from 'commander';
import { createAccessPoint } from '../access-point.js';
import { loadConfig } from '../config/index.js';
import { createCliLogger, logFormatOption, resolveLogFormat } from './log-output.js';
import { installProcessGuard } from './process-guard.js';
import { stopOnSignal, storeAndQueue } from './lifecycle-lines.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run an access point (API, AS4 endpoint, pipeline workers) until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option(
      '--no-workers',
      'serve the API only; `qerds worker` processes run the jobs (needs queue.kind bullmq)',
    )
    .addOption(logFormatOption())
    .action(async (opts: { config?: string; workers: boolean; logFormat: string }) => {
      const config = loadConfig({ file: opts.config });
      const logger = createCliLogger({
        level: config.log.level,
        format: resolveLogFormat(opts.logFormat, process.stdout.isTTY === true),
        ap: config.ap.id,
      });
      const ap = await createAccessPoint(config, { workers: opts.workers, logger });
      installProcessGuard(logger);
      await ap.start();
      // What an operator looks for first: where it listens, on what it runs (also the line scripts wait for).
      process.stdout.write(
        `qerds-ap "${config.ap.name}" listening on ${ap.url} (AS4 ${ap.url}/as4; ${storeAndQueue(config)}; workers ${opts.workers ? 'in this process' : 'none (qerds worker)'})\n`,
      );
      stopOnSignal(`qerds-ap "${config.ap.name}"`, () => ap.stop());
    });
}
