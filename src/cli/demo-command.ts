import { Option, type Command } from 'commander';
import { QerdsError } from '../core/index.js';
import { runDemo } from '../harness/demo.js';
import { devApId } from '../pki/dev-ap-id.js';
import { createCliLogger, logFormatOption, resolveLogFormat } from './log-output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'two APs (C2, C3) and a TSA on loopback: send a UBL invoice, hand it over, verify the evidence chain',
    )
    .option('--out <dir>', 'output directory', 'demo-out')
    .option('--pki <dir>', 'dev PKI directory (created when missing)', 'certs/dev')
    .option(
      '--invoice <file>',
      'document to send (default: examples/ubl-invoice-jp.xml; with --profile peppol examples/peppol/jp-pint-invoice.xml)',
    )
    .option(
      '--profile <profile>',
      'erds (the ERDS service between qerds-ap instances) or peppol (both APs on the Peppol AS4 profile, a JP PINT invoice)',
      'erds',
    )
    .option('--timeout <ms>', 'give up after', '45000')
    .option(
      '--postgres <url>',
      'the production setup: a PostgreSQL store (one schema per AP, <name>_c2 and <name>_c3) instead of SQLite',
    )
    .option(
      '--redis <url>',
      'the production setup: BullMQ queues on Redis (key prefix <name>-c2 / -c3) instead of the in-process queue',
    )
    .option('--name <name>', 'schema and key prefix of --postgres / --redis', 'qerds_demo')
    .addOption(logFormatOption())
    .addOption(
      new Option(
        '--log-level <level>',
        "the two APs' log level (info: each step they take; the demo's own lines print at any level)",
      )
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('warn'),
    )
    .action(
      async (opts: {
        out: string;
        pki: string;
        invoice?: string;
        profile: string;
        timeout: string;
        postgres?: string;
        redis?: string;
        name: string;
        logFormat: string;
        logLevel: string;
      }) => {
        if (opts.profile !== 'erds' && opts.profile !== 'peppol')
          throw new QerdsError('CONFIG_INVALID', '--profile must be erds or peppol');
        if (!/^[a-z_][a-z0-9_]{0,40}$/.test(opts.name))
          throw new QerdsError(
            'CONFIG_INVALID',
            '--name must be lowercase letters, digits and _ (a PostgreSQL schema name)',
          );
        // The APs log as `qerds start` does: pretty on a terminal, JSON otherwise, each line naming its AP.
        const format = resolveLogFormat(opts.logFormat, process.stdout.isTTY === true);
        const invalid = await runDemo({
          outDir: opts.out,
          pkiDir: opts.pki,
          invoice:
            opts.invoice ??
            (opts.profile === 'peppol'
              ? 'examples/peppol/jp-pint-invoice.xml'
              : 'examples/ubl-invoice-jp.xml'),
          profile: opts.profile,
          timeoutMs: Number(opts.timeout),
          print: (line) => process.stdout.write(line + '\n'),
          logger: (name) => createCliLogger({ level: opts.logLevel, format, ap: devApId(name) }),
          overrides: (name) => ({
            ...(opts.postgres
              ? {
                  store: {
                    kind: 'postgres' as const,
                    postgresUrl: opts.postgres,
                    postgresSchema: `${opts.name}_${name}`,
                  },
                }
              : {}),
            ...(opts.redis
              ? { queue: { kind: 'bullmq' as const, redisUrl: opts.redis, prefix: `${opts.name}-${name}` } }
              : {}),
          }),
        });
        process.exitCode = invalid === 0 ? 0 : 1;
      },
    );
}
