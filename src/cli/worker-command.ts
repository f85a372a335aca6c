import type { Command } from 'commander';
import { createAccessPoint } from '../access-point.js';
import { loadConfig } from '../config/index.js';
import { installProcessGuard } from './process-guard.js';
import { createCliLogger, logFormatOption, resolveLogFormat } from './log-output.js';
import { stopOnSignal, storeAndQueue } from './lifecycle-lines.js';
import { QerdsError } from '../core/index.js';
import { pipelineStages, type PipelineStage } from '../store/index.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run pipeline workers only (no HTTP), taking jobs from the BullMQ queues, until SIGINT/SIGTERM',
    )
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .option(
      '-s, --stages <list>',
      `comma-separated stages to work on (${pipelineStages.join(',')})`,
      pipelineStages.join(','),
    )
    .addOption(logFormatOption())
    .action(async (opts: { config?: string; stages: string; logFormat: string }) => {
      const config = loadConfig({ file: opts.config });
      const stages = parseStages(opts.stages);
      if (config.queue.kind !== 'bullmq') {
        throw new QerdsError(
          'CONFIG_INVALID',
          'qerds worker needs queue.kind bullmq (QERDS_QUEUE=bullmq): with the in-process queue, `qerds start` runs the workers',
        );
      }
      const logger = createCliLogger({
        level: config.log.level,
        format: resolveLogFormat(opts.logFormat, process.stdout.isTTY === true),
        ap: config.ap.id,
      });
      const ap = await createAccessPoint(config, { workers: stages, api: false, logger });
      installProcessGuard(logger);
      await ap.start();
      process.stdout.write(
        `qerds worker "${config.ap.name}" running stages ${stages.join(',')} (pid ${process.pid}; ${storeAndQueue(config)})\n`,
      );
      // Graceful: stop taking jobs, let the running ones finish, then exit.
      stopOnSignal(`qerds worker "${config.ap.name}" (pid ${process.pid})`, () => ap.stop());
    });
}

function parseStages(list: string): PipelineStage[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(pipelineStages as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new QerdsError(
      'CONFIG_INVALID',
      `--stages: unknown stage(s) ${unknown.join(', ') || '(none given)'}; have ${pipelineStages.join(', ')}`,
    );
  }
  return [...new Set(names)] as PipelineStage[];
}
