import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { QerdsError } from '../core/index.js';
import {
  detectFileKind,
  formatReport,
  formatTimestampReport,
  reportToJson,
  reportToXml,
  verifyEvidence,
  verifyTimestampFile,
  type TimestampFileReport,
  type VerificationReport,
} from '../evidence/index.js';
import { devPkiLayout, loadTrustStore } from '../pki/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface VerifyOptions {
  trust?: string[];
  at?: string;
  content?: string[];
  json: boolean;
  xml: boolean;
}

/**
 * `qerds verify <file>`: the auditor's verb. Offline, from the file alone plus trust anchors. Detects
 * what the file is — sealed evidence XML, or an RFC 3161 timestamp (token or response, DER) — and
 * validates it. Exit 0 only for TOTAL-PASSED; 1 for anything else (INDETERMINATE is not proof).
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a sealed evidence or an RFC 3161 timestamp offline; exit 0 only when it is valid')
    .argument('<file>', 'evidence XML, or a timestamp token / response (DER)')
    .option('--trust <path>', 'trust anchor / CRL (PEM file or directory); repeat for more; default: the dev PKI CA in certs/dev', collect)
    .option('--at <time>', 'validate as if the current time were this (ISO 8601): the newest timestamp must hold then')
    .option(
      '--content <file>',
      'the user content: one file must match one part digest of the evidence; repeated, the parts in order; for a timestamp, the data of its imprint',
      collect,
    )
    .option('--json', 'print the verification report as JSON', false)
    .option('--xml', 'print the verdict as an ETSI TS 119 102-2 style validation report (XML)', false)
    .action(async (file: string, opts: VerifyOptions) => {
      const bytes = await readFile(file);
      const dev = devPkiLayout('certs/dev');
      const trust = loadTrustStore(opts.trust ?? [dev.caCert, dev.caCrl]);
      const at = opts.at ? new Date(opts.at) : undefined;
      if (at && Number.isNaN(at.getTime())) throw new QerdsError('CONFIG_INVALID', `--at: not a time: ${opts.at}`);
      const contents = await Promise.all((opts.content ?? []).map((c) => readFile(c)));

      let report: VerificationReport | TimestampFileReport;
      let words: string;
      switch (detectFileKind(bytes)) {
        case 'evidence-xml': {
          const content = contents.length === 0 ? undefined : contents.length === 1 ? contents[0] : contents;
          const r = await verifyEvidence(bytes.toString('utf8'), { trust, ...(at ? { at } : {}), ...(content ? { content } : {}) });
          report = r;
          words = formatReport(r);
          break;
        }
        case 'timestamp-token': {
          if (contents.length > 1) throw new QerdsError('CONFIG_INVALID', '--content: a timestamp covers one piece of data');
          const r = await verifyTimestampFile(bytes, { trust, ...(at ? { at } : {}), ...(contents[0] ? { content: contents[0] } : {}) });
          report = r;
          words = formatTimestampReport(r);
          break;
        }
        default:
          throw new QerdsError('EVIDENCE_MALFORMED', `${file}: neither evidence XML nor an RFC 3161 timestamp token or response`);
      }
      process.stdout.write(`${opts.json ? reportToJson(report) : opts.xml ? reportToXml(report) : words}\n`);
      process.exitCode = report.indication === 'TOTAL-PASSED' ? 0 : 1;
    });
}
