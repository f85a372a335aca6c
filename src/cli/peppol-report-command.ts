import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { peppolExchangeRecords } from '../access-point/peppol-report-source.js';
import { loadConfig } from '../config/index.js';
import { QerdsError } from '../core/index.js';
import {
  buildEndUserStatisticsReport,
  buildTransactionStatisticsReport,
  seatIdOf,
  serializeEndUserStatisticsReport,
  serializeTransactionStatisticsReport,
} from '../peppol/index.js';
import { subjectCommonName } from '../pki/index.js';
import { createStore } from '../store/index.js';

/**
 * `qerds peppol-report --type tsr|eusr --period YYYY-MM [--out file]`: the monthly Peppol report of this AP —
 * Transaction Statistics (TSR 1.0) or End User Statistics (EUSR 1.1), peppol/reporting.ts — from the Peppol
 * exchanges in the configured store (access-point/peppol-report-source.ts), straight on the store (no running AP
 * needed). The reporter is the seat id (CN) of the AP's AS4 signing certificate (else its e-seal), or `--seat-id`.
 * Submitting the report to OpenPeppol (as a Peppol message to the reporting participant) is not done here.
 */
export function registerPeppolReport(program: Command): void {
  program
    .command('peppol-report')
    .description(
      'write the monthly Peppol Transaction Statistics (tsr) or End User Statistics (eusr) report from the store',
    )
    .requiredOption('--type <type>', 'tsr or eusr')
    .requiredOption('--period <month>', 'the month reported, YYYY-MM (UTC)')
    .option('--out <file>', 'write the XML here (default: standard output)')
    .option(
      '--seat-id <id>',
      "the reporter's seat id, POP000123 (default: the CN of the AP's AS4 certificate)",
    )
    .option('-c, --config <file>', 'YAML configuration (env QERDS_CONFIG)', process.env.QERDS_CONFIG)
    .action(
      async (opts: { type: string; period: string; out?: string; seatId?: string; config?: string }) => {
        if (opts.type !== 'tsr' && opts.type !== 'eusr')
          throw new QerdsError('CONFIG_INVALID', `--type must be tsr or eusr, not "${opts.type}"`);
        const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(opts.period);
        if (!month) throw new QerdsError('CONFIG_INVALID', `--period must be YYYY-MM, not "${opts.period}"`);
        const since = new Date(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1));
        const until = new Date(Date.UTC(Number(month[1]), Number(month[2]), 1));
        const period = {
          start: since.toISOString().slice(0, 10),
          end: new Date(until.getTime() - 86_400_000).toISOString().slice(0, 10),
        };
        const config = loadConfig({ file: opts.config });
        const reporterSeatId = opts.seatId ?? ownSeatId(config.files);
        if (!seatIdOf(reporterSeatId))
          throw new QerdsError('CONFIG_INVALID', `"${reporterSeatId}" is no Peppol seat id (like POP000123)`);
        const store = await createStore(config.store);
        let xml: string;
        try {
          await store.migrate();
          const records = await peppolExchangeRecords(store, { since, until });
          const options = { period, reporterSeatId };
          xml =
            opts.type === 'tsr'
              ? serializeTransactionStatisticsReport(buildTransactionStatisticsReport(records, options))
              : serializeEndUserStatisticsReport(buildEndUserStatisticsReport(records, options));
        } finally {
          await store.close();
        }
        if (opts.out) {
          writeFileSync(opts.out, xml);
          process.stderr.write(`${opts.type} report for ${opts.period} written to ${opts.out}\n`);
        } else {
          process.stdout.write(xml.endsWith('\n') ? xml : `${xml}\n`);
        }
      },
    );
}

/** CN of the AS4 signing certificate when configured (or the dev PKI has one), else of the e-seal. */
function ownSeatId(files: ReturnType<typeof loadConfig>['files']): string {
  const path = existsSync(files.as4Signing.cert.path) ? files.as4Signing.cert.path : files.seal.cert.path;
  return subjectCommonName(new X509Certificate(readFileSync(path)).subject) ?? '';
}
