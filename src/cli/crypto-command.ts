import { createPrivateKey } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { QerdsError } from '../core/index.js';
import { decryptCms, encryptCms } from '../crypto/index.js';
import { parsePemCertificates } from '../pki/index.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function leafCertificate(file: string) {
  const [certificate] = parsePemCertificates(await readFile(file, 'utf8'));
  if (!certificate) throw new QerdsError('CONFIG_INVALID', `no PEM certificate in ${file}`);
  return certificate;
}

/** Write via a temporary name so a reader never sees a half-written file. */
async function writeAtomically(path: string, data: Buffer, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/**
 * `qerds encrypt` / `qerds decrypt`: end-to-end encryption at C1 or C4, CMS AuthEnvelopedData with
 * AES-256-GCM (DER), interoperable with `openssl cms -encrypt/-decrypt -inform DER -outform DER`.
 */
export function registerCrypto(program: Command): void {
  program
    .command('encrypt')
    .description(
      'encrypt a file for one or more recipient certificates (CMS AuthEnvelopedData, AES-256-GCM, DER)',
    )
    .argument('<in>', 'plaintext file')
    .argument('<out>', 'where to write the DER ContentInfo')
    .requiredOption(
      '--to <cert.pem>',
      'recipient certificate (RSA, EC P-256 or X25519); repeat for more',
      collect,
    )
    .option('--keyid', 'name recipients by subjectKeyIdentifier instead of issuer and serial', false)
    .action(async (input: string, output: string, opts: { to: string[]; keyid: boolean }) => {
      const recipients = await Promise.all(opts.to.map(leafCertificate));
      const der = await encryptCms(createReadStream(input), recipients, {
        useSubjectKeyIdentifier: opts.keyid,
      });
      await writeAtomically(output, der, 0o644);
      process.stderr.write(`encrypted for ${recipients.length} recipient(s): ${output}\n`);
    });

  program
    .command('decrypt')
    .description(
      'decrypt a CMS AuthEnvelopedData file as the recipient; writes nothing unless the tag verifies',
    )
    .argument('<in>', 'DER (or BER) ContentInfo')
    .argument('<out>', 'where to write the plaintext (mode 0600)')
    .requiredOption('--key <key.pem>', 'recipient private key (PEM)')
    .requiredOption('--cert <cert.pem>', 'recipient certificate (PEM): selects the RecipientInfo')
    .option('--passphrase-env <name>', 'environment variable holding the key passphrase')
    .action(
      async (input: string, output: string, opts: { key: string; cert: string; passphraseEnv?: string }) => {
        const passphrase = opts.passphraseEnv ? process.env[opts.passphraseEnv] : undefined;
        const privateKey = createPrivateKey({ key: await readFile(opts.key), format: 'pem', passphrase });
        const certificate = await leafCertificate(opts.cert);
        const plaintext = decryptCms(await readFile(input), { privateKey, certificate });
        // The plaintext is for the recipient only: not world-readable.
        await writeAtomically(output, plaintext, 0o600);
        process.stderr.write(`decrypted ${plaintext.length} octets: ${output}\n`);
      },
    );
}
