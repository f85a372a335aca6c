import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatReport, verifyEvidence } from '../evidence/index.js';
import { devPkiLayout, loadTrustStore } from '../pki/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface VerifyOptions {
  trust?: string[];
  at?: string;
  json: boolean;
}

/**
 * `qerds verify <evidence.xml>`: the auditor's verb. Offline, from the file alone plus trust anchors.
 * Exit 0 only for TOTAL-PASSED.
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a sealed evidence file offline; exit 0 only when it is valid')
    .argument('<file>', 'evidence XML')
    .option('--trust <path>', 'trust anchor / CRL (PEM file or directory); repeat for more; default: the dev PKI CA in certs/dev', collect)
    .option('--at <time>', 'validate as of this time (ISO 8601) instead of the signing time')
    .option('--json', 'print the verification report as JSON', false)
    .action(async (file: string, opts: VerifyOptions) => {
      const xml = await readFile(file, 'utf8');
      const dev = devPkiLayout('certs/dev');
      const trust = loadTrustStore(opts.trust ?? [dev.caCert, dev.caCrl]);
      const at = opts.at ? new Date(opts.at) : undefined;
      if (at && Number.isNaN(at.getTime())) throw new Error(`--at: not a time: ${opts.at}`);
      const report = await verifyEvidence(xml, { trust, at });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
      process.exitCode = report.indication === 'TOTAL-PASSED' ? 0 : 1;
    });
}
