import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { QerdsError } from '../core/errors.js';
import { createSoftHsmSealToken, devPkiLayout, initDevPki, reissueDevCrl } from '../pki/index.js';
import { devTrustListXml } from '../trust-list/index.js';

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('keys and certificates');
  pki
    .command('init')
    .description(
      'create the DEV/TEST PKI: root CA, CRL, e-seal, TLS and AS4 certificates per AP (RSA encryption for eDelivery AS4 1.15; Ed25519 signing and X25519 encryption for 2.0), TSA, recipients (never for production)',
    )
    .option('--dir <dir>', 'where to write it', 'certs/dev')
    .option('--ap <names...>', 'access point names', ['c2', 'c3'])
    .option('--recipient <names...>', 'recipient names (encryption certificates)', ['alice', 'bob'])
    .option('--force', 'overwrite an existing PKI', false)
    .option(
      '--key <type>',
      'signing key type (e-seals, TSA, TLS, list signer): rsa (2048) or ec (P-256, cheaper to sign; AS4 signs with RSA or Ed25519, never ECDSA, so each AP also gets an RSA AS4 signing certificate for eDelivery AS4 1.15); CA and 1.15 encryption keys stay RSA',
      'rsa',
    )
    .option(
      '--peppol-seat <ap=seat...>',
      'make these APs Peppol access points (e.g. c2=POP000101): a Peppol AP certificate (CN = seat id, OU PEPPOL TEST AP, clientAuth) from a dev Peppol AP CA as the AS4 signing and encryption certificate; the e-seal stays apart',
      [],
    )
    .action(
      async (opts: {
        dir: string;
        ap: string[];
        recipient: string[];
        force: boolean;
        key: string;
        peppolSeat: string[];
      }) => {
        if (opts.key !== 'rsa' && opts.key !== 'ec')
          throw new QerdsError('CONFIG_INVALID', '--key must be rsa or ec');
        const peppolSeats: Record<string, string> = {};
        for (const pair of opts.peppolSeat) {
          const [ap, seat, ...rest] = pair.split('=');
          if (!ap || !seat || rest.length > 0)
            throw new QerdsError(
              'CONFIG_INVALID',
              `--peppol-seat takes <ap>=<seat id>, not ${JSON.stringify(pair)}`,
            );
          peppolSeats[ap] = seat;
        }
        const result = await initDevPki({
          peppolSeats,
          dir: opts.dir,
          aps: opts.ap,
          recipients: opts.recipient,
          force: opts.force,
          trustList: devTrustListXml,
          key: opts.key,
        });
        process.stdout.write(
          result.created
            ? `dev PKI written to ${result.layout.dir} (DEV/TEST ONLY: never use these keys in production)\n`
            : result.added.length > 0
              ? `dev PKI in ${result.layout.dir} completed with:\n${result.added.map((f) => `  ${f}\n`).join('')}`
              : `dev PKI already present in ${result.layout.dir}; nothing changed (use --force to regenerate)\n`,
        );
        if (Object.keys(peppolSeats).length > 0)
          process.stdout.write(
            `Peppol AP certificates (${Object.entries(peppolSeats)
              .map(([ap, seat]) => `${ap}: ${seat}`)
              .join(
                ', ',
              )}) under ${result.layout.peppolApCa.cert}: configure pki.peppolAnchors { network: test, generations: [G3], dir: ${result.layout.peppolApCa.anchorsDir} } and add ${result.layout.peppolApCa.crl} to pki.trust\n`,
          );
      },
    );
  pki
    .command('crl')
    .description(
      "DEV/TEST ONLY: re-issue the dev CA's CRL (revoked entries kept, CRL number + 1, thisUpdate now); a running AP picks it up at its next pki.crlRefresh",
    )
    .option('--dir <dir>', 'the dev PKI', 'certs/dev')
    .option('--days <n>', 'days until nextUpdate', '30')
    .action(async (opts: { dir: string; days: string }) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days <= 0)
        throw new QerdsError('CONFIG_INVALID', `--days must be a positive number, got ${opts.days}`);
      const issued = await reissueDevCrl(devPkiLayout(opts.dir), { days });
      process.stdout.write(
        `CRL number ${issued.crlNumber} written to ${issued.file}: thisUpdate ${issued.thisUpdate.toISOString()}, nextUpdate ${issued.nextUpdate.toISOString()}, ${issued.revoked} revoked (DEV/TEST ONLY)\n`,
      );
    });
  pki
    .command('softhsm-init')
    .description(
      "DEV/TEST ONLY: a softhsm2 token holding a sender's remote e-seal key (generated in the token, not extractable), certified by the dev CA",
    )
    .requiredOption('--sender <id>', 'the sender, <scheme>:<value>')
    .option('--pki-dir <dir>', 'the dev PKI whose CA certifies the key', 'certs/dev')
    .option('--dir <dir>', 'softhsm config and token store (default: <pki-dir>/softhsm/<sender>)')
    .option('--token-label <label>', 'token label (default: qerds-<sender>)')
    .option('--key-label <label>', 'CKA_LABEL of the key', 'remote-seal')
    .option('--key-type <type>', 'rsa (2048) or ec (P-256)', 'rsa')
    .option(
      '--pin-env <name>',
      'environment variable holding the user PIN (the AP reads the same one)',
      'QERDS_REMOTE_SEAL_PIN',
    )
    .action(
      async (opts: {
        sender: string;
        pkiDir: string;
        dir?: string;
        tokenLabel?: string;
        keyLabel: string;
        keyType: string;
        pinEnv: string;
      }) => {
        if (!/^[^:\s]+:\S+$/.test(opts.sender))
          throw new QerdsError('CONFIG_INVALID', '--sender must be <scheme>:<value>');
        if (opts.keyType !== 'rsa' && opts.keyType !== 'ec')
          throw new QerdsError('CONFIG_INVALID', '--key-type must be rsa or ec');
        const pin = process.env[opts.pinEnv];
        if (!pin)
          throw new QerdsError(
            'CONFIG_INVALID',
            `set the token PIN in the environment variable ${opts.pinEnv} (it never goes into a file)`,
          );
        const safe = opts.sender.replace(/[^A-Za-z0-9._-]/g, '_');
        const result = await createSoftHsmSealToken({
          pkiDir: opts.pkiDir,
          dir: opts.dir ?? join(opts.pkiDir, 'softhsm', safe),
          sender: opts.sender,
          tokenLabel: opts.tokenLabel ?? `qerds-${safe}`.slice(0, 32),
          keyLabel: opts.keyLabel,
          pin,
          // The SO PIN only re-initialises the token: a dev token is thrown away instead, so nobody needs to know it.
          soPin: randomBytes(12).toString('hex'),
          keyType: opts.keyType,
        });
        const remoteSeal = {
          pkcs11: {
            module: result.module,
            tokenLabel: opts.tokenLabel ?? `qerds-${safe}`.slice(0, 32),
            keyLabel: opts.keyLabel,
            pinEnv: opts.pinEnv,
          },
          certificate: result.certificateFile,
        };
        process.stdout.write(
          `softhsm token for ${opts.sender} written to ${result.conf} (DEV/TEST ONLY)\n` +
            `certificate: ${result.certificateFile} (${result.certificate.subject.replace(/\n/g, ', ')})\n\n` +
            `Run the AP with:\n  export SOFTHSM2_CONF=${result.conf}\n  export ${opts.pinEnv}=<the PIN>\n` +
            `and add to the sender's entry under accounts:\n${toYaml({ remoteSeal }).trimEnd().replace(/^/gm, '  ')}\n`,
        );
      },
    );
}
