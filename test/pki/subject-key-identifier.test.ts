import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subjectKeyIdentifier } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/** The SubjectKeyIdentifier as openssl prints it (`AB:CD:…`), as bytes: an independent reading. */
function opensslSki(pemFile: string): Buffer {
  const text = execFileSync('openssl', ['x509', '-in', pemFile, '-noout', '-ext', 'subjectKeyIdentifier'], {
    encoding: 'utf8',
  });
  const hex = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(text)?.[1];
  if (!hex) throw new Error(`openssl printed no subjectKeyIdentifier: ${text}`);
  return Buffer.from(hex.replace(/:/g, ''), 'hex');
}

describe('subjectKeyIdentifier (the one reader of RFC 5280 §4.2.1.2)', () => {
  it('reads the extension value that openssl reads, for the CA and an AP seal certificate', () => {
    const pki = sharedTestPki();
    for (const file of [pki.caCert, pki.ap('c2').sealCert]) {
      const cert = new X509Certificate(readFileSync(file));
      expect(subjectKeyIdentifier(cert)).toEqual(opensslSki(file));
    }
  });

  it('is undefined for a certificate without the extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-noski-'));
    const certFile = join(dir, 'c.pem');
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
        join(dir, 'k.pem'),
        '-subj',
        '/CN=No SKI',
        '-days',
        '1',
        '-addext',
        'subjectKeyIdentifier=none',
        '-addext',
        'authorityKeyIdentifier=none',
        '-out',
        certFile,
      ],
      { stdio: 'pipe' },
    );
    expect(
      execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-text'], { encoding: 'utf8' }),
    ).not.toContain('Subject Key Identifier');
    expect(subjectKeyIdentifier(new X509Certificate(readFileSync(certFile)))).toBeUndefined();
  });
});
