import type { Command } from 'commander';
import { initDevPki } from '../pki/index.js';

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('keys and certificates');
  pki
    .command('init')
    .description('create the DEV/TEST PKI: root CA, CRL, e-seal, TLS and AS4 encryption certificates per AP, TSA, recipients (never for production)')
    .option('--dir <dir>', 'where to write it', 'certs/dev')
    .option('--ap <names...>', 'access point names', ['c2', 'c3'])
    .option('--recipient <names...>', 'recipient names (encryption certificates)', ['alice', 'bob'])
    .option('--force', 'overwrite an existing PKI', false)
    .action(async (opts: { dir: string; ap: string[]; recipient: string[]; force: boolean }) => {
      const result = await initDevPki({ dir: opts.dir, aps: opts.ap, recipients: opts.recipient, force: opts.force });
      process.stdout.write(
        result.created
          ? `dev PKI written to ${result.layout.dir} (DEV/TEST ONLY: never use these keys in production)\n`
          : result.added.length > 0
            ? `dev PKI in ${result.layout.dir} completed with:\n${result.added.map((f) => `  ${f}\n`).join('')}`
            : `dev PKI already present in ${result.layout.dir}; nothing changed (use --force to regenerate)\n`,
      );
    });
}
