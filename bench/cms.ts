import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptCms, encryptCms } from '../src/crypto/index.js';
import { initDevPki } from '../src/pki/index.js';
import { percentile } from './stats.js';

interface Recipient {
  readonly label: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyopts: readonly string[];
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Median wall time of `runs` calls, in ms. */
async function median(runs: number, fn: () => Promise<void> | void): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

/**
 * End-to-end encryption throughput: our encryptCms/decryptCms (node:crypto) against `openssl cms` on the
 * same file in the same run, AuthEnvelopedData AES-256-GCM, one recipient (RSA-2048 OAEP-SHA256, then EC
 * P-256 ECDH). Both sides read the input file and write the output file; openssl's figure includes its
 * process start (a few ms, visible at 1 MiB only). MB = 10^6 octets.
 */
export async function benchCms(): Promise<void> {
  const sizes = (process.env.BENCH_CMS_SIZES ?? '1,100').split(',').map(Number); // MiB
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-cms-'));
  try {
    const { layout } = await initDevPki({ dir: join(dir, 'pki'), aps: [], recipients: ['alice'] });
    const ecKey = join(dir, 'ec.key.pem');
    const ecCert = join(dir, 'ec.crt.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        ecKey,
        '-out',
        ecCert,
        '-subj',
        '/CN=bench ec recipient',
        '-days',
        '1',
        '-addext',
        'keyUsage=keyAgreement',
      ],
      { stdio: 'pipe' },
    );
    const recipients: Recipient[] = [
      {
        label: 'RSA-2048 OAEP',
        certFile: layout.recipient('alice').cert,
        keyFile: layout.recipient('alice').key,
        keyopts: ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'],
      },
      {
        label: 'EC P-256 ECDH',
        certFile: ecCert,
        keyFile: ecKey,
        keyopts: ['-keyopt', 'ecdh_kdf_md:sha256'],
      },
    ];
    console.log(
      'settings: AES-256-GCM AuthEnvelopedData, 1 recipient, file → file, median of runs; openssl ' +
        execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim(),
    );
    console.log('size     recipient        op        ours MB/s   openssl MB/s   runs');
    for (const mib of sizes) {
      const bytes = mib * 2 ** 20;
      const plainFile = join(dir, `plain-${mib}.bin`);
      writeFileSync(plainFile, randomBytes(bytes));
      const plainDigest = sha256(plainFile);
      const runs = mib >= 50 ? 3 : 15;
      for (const r of recipients) {
        const certificate = new X509Certificate(readFileSync(r.certFile));
        const privateKey = createPrivateKey(readFileSync(r.keyFile));
        const oursDer = join(dir, 'ours.der');
        const sslDer = join(dir, 'openssl.der');
        const out = join(dir, 'out.bin');
        const encOurs = await median(runs, async () => {
          await writeFile(
            oursDer,
            await encryptCms(createReadStream(plainFile, { highWaterMark: 1 << 20 }), [certificate]),
          );
        });
        const encSsl = await median(runs, () => {
          execFileSync('openssl', [
            'cms',
            '-encrypt',
            '-aes-256-gcm',
            '-binary',
            '-in',
            plainFile,
            '-outform',
            'DER',
            '-out',
            sslDer,
            '-recip',
            r.certFile,
            ...r.keyopts,
          ]);
        });
        // Cross-decrypt, so each side also proves it reads the other's output.
        const decOurs = await median(runs, async () => {
          await writeFile(out, decryptCms(await readFile(sslDer), { privateKey, certificate }));
        });
        if (sha256(out) !== plainDigest) throw new Error('ours: decrypted output differs');
        const decSsl = await median(runs, () => {
          execFileSync('openssl', [
            'cms',
            '-decrypt',
            '-inform',
            'DER',
            '-in',
            oursDer,
            '-recip',
            r.certFile,
            '-inkey',
            r.keyFile,
            '-binary',
            '-out',
            out,
          ]);
        });
        if (sha256(out) !== plainDigest) throw new Error('openssl: decrypted output differs');
        const rate = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(10);
        for (const [op, ours, ssl] of [
          ['encrypt', encOurs, encSsl],
          ['decrypt', decOurs, decSsl],
        ] as const) {
          console.log(
            `${`${mib} MiB`.padEnd(8)} ${r.label.padEnd(16)} ${op.padEnd(8)} ${rate(ours)}   ${rate(ssl)}      ${runs}`,
          );
        }
      }
      rmSync(plainFile);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
