import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTestPki } from './pki.js';

/** A recipient of end-to-end encryption: files (for openssl) and parsed objects (for our code). */
export interface CmsRecipient {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
}

export interface CmsRecipients {
  readonly dir: string;
  /** RSA-2048 recipients made by initDevPki. */
  readonly alice: CmsRecipient;
  readonly bob: CmsRecipient;
  /** EC P-256 and X25519 recipients made by the openssl CLI, issued by the same dev CA. */
  readonly ec: CmsRecipient;
  readonly ec2: CmsRecipient;
  readonly x25519: CmsRecipient;
}

function load(certFile: string, keyFile: string): CmsRecipient {
  return {
    certFile,
    keyFile,
    certificate: new X509Certificate(readFileSync(certFile)),
    privateKey: createPrivateKey(readFileSync(keyFile)),
  };
}

/** A fresh dev PKI in a temp dir with RSA, EC P-256 and X25519 encryption certificates. */
export async function cmsRecipients(): Promise<CmsRecipients> {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-cms-'));
  const layout = await devTestPki(dir, { aps: [], recipients: ['alice', 'bob'] });
  const ext = join(dir, 'ka.cnf');
  writeFileSync(
    ext,
    '[ka]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,keyAgreement\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const issue = (name: string, algorithm: string[]): CmsRecipient => {
    const keyFile = join(dir, `${name}.key.pem`);
    const pubFile = join(dir, `${name}.pub.pem`);
    const certFile = join(dir, `${name}.crt.pem`);
    ssl('genpkey', ...algorithm, '-out', keyFile);
    ssl('pkey', '-in', keyFile, '-pubout', '-out', pubFile);
    ssl(
      'x509',
      '-new',
      '-force_pubkey',
      pubFile,
      '-subj',
      `/O=qerds-ap DEV ONLY/CN=recipient ${name}`,
      '-CA',
      layout.caCert,
      '-CAkey',
      layout.caKey,
      '-days',
      '30',
      '-extfile',
      ext,
      '-extensions',
      'ka',
      '-out',
      certFile,
    );
    return load(certFile, keyFile);
  };
  const alice = layout.recipient('alice');
  const bob = layout.recipient('bob');
  return {
    dir,
    alice: load(alice.cert, alice.key),
    bob: load(bob.cert, bob.key),
    ec: issue('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    ec2: issue('ec2', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    x25519: issue('x25519', ['-algorithm', 'X25519']),
  };
}
