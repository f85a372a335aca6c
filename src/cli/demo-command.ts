import type { Command } from 'commander';
import { runDemo } from './demo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('two APs (C2, C3) and a TSA on loopback: send a UBL invoice, hand it over, verify the evidence chain')
    .option('--out <dir>', 'output directory', 'demo-out')
    .option('--pki <dir>', 'dev PKI directory (created when missing)', 'certs/dev')
    .option('--invoice <file>', 'document to send', 'examples/ubl-invoice-jp.xml')
    .option('--timeout <ms>', 'give up after', '45000')
    .action(async (opts: { out: string; pki: string; invoice: string; timeout: string }) => {
      const invalid = await runDemo({
        outDir: opts.out,
        pkiDir: opts.pki,
        invoice: opts.invoice,
        timeoutMs: Number(opts.timeout),
        print: (line) => process.stdout.write(line + '\n'),
      });
      process.exitCode = invalid === 0 ? 0 : 1;
    });
}
