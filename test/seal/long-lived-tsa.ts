import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevPkiLayout } from '../../src/pki/types.js';

/**
 * A second TSA certificate from the CA of `pki`, made with the openssl CLI and valid for `days` (the
 * shared PKI's own TSA and seal certificates last 825 days): the TSA a re-timestamping job would use
 * after the first TSA's certificate has been renewed. Returns the PEM file paths.
 */
export function opensslTsaCertificate(
  pki: DevPkiLayout,
  days: number,
  cn = 'Archive TSA',
): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-archive-tsa-'));
  const keyFile = join(dir, 'tsa.key.pem');
  const certFile = join(dir, 'tsa.crt.pem');
  const ext = join(dir, 'ext.cnf');
  writeFileSync(
    ext,
    '[x_tsa]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  run(['req', '-new', '-key', keyFile, '-subj', `/C=JP/O=Test Dev/CN=${cn}`, '-out', join(dir, 'tsa.csr')]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'tsa.csr'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAserial',
    join(dir, 'ca.srl'),
    '-CAcreateserial',
    '-days',
    String(days),
    '-sha256',
    '-extfile',
    ext,
    '-extensions',
    'x_tsa',
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}
