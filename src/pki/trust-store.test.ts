import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError } from '../core/errors.js';
import { devTestPki, foreignTestPki, privateCopy } from '../../test/helpers/pki.js';
import {
  createTrustStore,
  initDevPki,
  loadTrustStore,
  revokeCertificate,
  type DevPkiLayout,
  type PathValidationResult,
} from './index.js';

const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });
const cert = (file: string) => new X509Certificate(readFileSync(file));
const codes = (r: PathValidationResult) =>
  r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

let root: string;
let layout: DevPkiLayout;
let foreign: DevPkiLayout;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qerds-trust-test-'));
  layout = await devTestPki(join(root, 'pki'));
  foreign = foreignTestPki();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('createTrustStore', () => {
  it('accepts a leaf of the trusted CA and returns the path leaf → anchor', () => {
    const store = createTrustStore([cert(layout.caCert)], { crls: [readFileSync(layout.caCrl)] });
    const r = store.validate(cert(layout.ap('c2').sealCert));
    expect(codes(r)).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.path.map((c) => c.subject)).toEqual([
      cert(layout.ap('c2').sealCert).subject,
      cert(layout.caCert).subject,
    ]);
    expect(r.findings.map((f) => f.code)).not.toContain('PKI_REVOCATION_NOT_CHECKED');
  });

  it('rejects a leaf of another CA', () => {
    const store = createTrustStore([cert(layout.caCert)]);
    const r = store.validate(cert(foreign.ap('c2').sealCert));
    expect(r.valid).toBe(false);
    expect(codes(r)).toEqual(['PKI_PATH_NOT_FOUND']);
    expect(r.path).toEqual([]);
  });

  it('rejects a leaf outside its validity period', () => {
    const store = createTrustStore([cert(layout.caCert)]);
    const leaf = cert(layout.ap('c3').sealCert);
    const later = store.validate(leaf, { at: new Date(Date.now() + 5 * 365 * 86_400_000) });
    expect(later.valid).toBe(false);
    expect(codes(later)).toEqual(['PKI_CERT_EXPIRED']);
    const earlier = store.validate(leaf, { at: new Date(Date.now() - 86_400_000) });
    expect(codes(earlier)).toEqual(['PKI_CERT_NOT_YET_VALID', 'PKI_CERT_NOT_YET_VALID']);
  });

  it('uses the injected clock when no time is given', () => {
    const store = createTrustStore([cert(layout.caCert)], {
      clock: { now: () => new Date('2099-01-01T00:00:00Z') },
    });
    expect(codes(store.validate(cert(layout.tsaCert)))).toContain('PKI_CERT_EXPIRED');
  });

  it('honours a CRL: revoked at or before `at` is invalid, revoked after `at` still validates', async () => {
    const dir = join(root, 'revoked');
    cpSync(layout.dir, dir, { recursive: true });
    const { layout: l } = await initDevPki({ dir });
    const revokedAt = new Date(Date.now() - 60_000);
    await revokeCertificate(l, readFileSync(l.ap('c2').sealCert, 'utf8'), 'keyCompromise', revokedAt);
    const store = createTrustStore([cert(l.caCert)], { crls: [readFileSync(l.caCrl, 'utf8')] });
    const leaf = cert(l.ap('c2').sealCert);

    expect(codes(store.validate(leaf, { at: revokedAt }))).toEqual(['PKI_CERT_REVOKED']);
    expect(codes(store.validate(leaf))).toEqual(['PKI_CERT_REVOKED']);
    const before = store.validate(leaf, { at: new Date(revokedAt.getTime() - 1000) });
    expect(before.valid).toBe(true);
    expect(before.findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED_LATER');
    expect(store.validate(cert(l.ap('c3').sealCert)).valid).toBe(true);
  });

  it('honours a CRL made by openssl ca for the openssl-made PKI', () => {
    const l = privateCopy(foreignTestPki());
    try {
      const ca = ['-config', join(l.dir, 'ca.cnf'), '-keyfile', l.caKey, '-cert', l.caCert];
      execFileSync('openssl', ['ca', ...ca, '-revoke', l.ap('c3').sealCert], { cwd: l.dir, stdio: 'pipe' });
      execFileSync('openssl', ['ca', ...ca, '-gencrl', '-out', l.caCrl], { cwd: l.dir, stdio: 'pipe' });
      const store = loadTrustStore([l.caCert, l.caCrl]);
      expect(codes(store.validate(cert(l.ap('c3').sealCert)))).toEqual(['PKI_CERT_REVOKED']);
      expect(store.validate(cert(l.ap('c2').sealCert)).valid).toBe(true);
    } finally {
      rmSync(l.dir, { recursive: true, force: true });
    }
  });

  it('ignores a CRL that the CA did not sign', () => {
    // A CRL under a self-made CA that copies our CA's name (as UTF8String where ours is PrintableString,
    // so the name matches only after normalisation): selected by name, refused on its signature.
    const dir = join(root, 'forged-crl');
    mkdirSync(dir);
    const subject = openssl('x509', '-in', layout.caCert, '-noout', '-subject', '-nameopt', 'compat')
      .replace(/^subject=/, '')
      .trim();
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-subj',
      subject,
      '-out',
      join(dir, 'c.pem'),
    );
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\ncrlnumber=${dir}/crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n`,
    );
    openssl(
      'ca',
      '-gencrl',
      '-config',
      join(dir, 'ca.cnf'),
      '-keyfile',
      join(dir, 'k.pem'),
      '-cert',
      join(dir, 'c.pem'),
      '-out',
      join(dir, 'forged.crl.pem'),
    );
    const store = createTrustStore([cert(layout.caCert)], {
      crls: [readFileSync(join(dir, 'forged.crl.pem'))],
    });
    const r = store.validate(cert(layout.ap('c2').sealCert));
    expect(r.valid).toBe(true);
    expect(r.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['PKI_CRL_SIGNATURE_INVALID', 'PKI_REVOCATION_NOT_CHECKED']),
    );
  });

  it('reports a bad signature when an issuer of the right name did not sign the certificate', () => {
    // An impostor CA with our CA's exact name issues a leaf without key identifiers: the name matches, the
    // signature cannot.
    const dir = join(root, 'impostor');
    mkdirSync(dir);
    const subject = openssl('x509', '-in', layout.caCert, '-noout', '-subject', '-nameopt', 'compat')
      .replace(/^subject=/, '')
      .trim();
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'ca.key'),
      '-subj',
      subject,
      '-out',
      join(dir, 'ca.pem'),
    );
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'leaf.key'),
      '-subj',
      '/CN=impostor leaf',
      '-out',
      join(dir, 'leaf.csr'),
    );
    writeFileSync(
      join(dir, 'ext.cnf'),
      '[x]\nbasicConstraints=CA:FALSE\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      join(dir, 'leaf.csr'),
      '-CA',
      join(dir, 'ca.pem'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      '7',
      '-days',
      '30',
      '-extfile',
      join(dir, 'ext.cnf'),
      '-extensions',
      'x',
      '-out',
      join(dir, 'leaf.pem'),
    );
    const r = createTrustStore([cert(layout.caCert)]).validate(cert(join(dir, 'leaf.pem')));
    expect(r.valid).toBe(false);
    expect(codes(r)).toEqual(['PKI_SIGNATURE_INVALID']);
  });

  it('rejects a path through an issuer that is not a CA', () => {
    const dir = join(root, 'not-a-ca');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'ext.cnf'),
      '[mid]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n[leaf]\nbasicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n',
    );
    const issue = (name: string, caCert: string, caKey: string, ext: string) => {
      openssl(
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, `${name}.key`),
        '-subj',
        `/CN=${name}`,
        '-out',
        join(dir, `${name}.csr`),
      );
      openssl(
        'x509',
        '-req',
        '-in',
        join(dir, `${name}.csr`),
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        '-set_serial',
        '9',
        '-days',
        '30',
        '-extfile',
        join(dir, 'ext.cnf'),
        '-extensions',
        ext,
        '-out',
        join(dir, `${name}.pem`),
      );
    };
    issue('mid', layout.caCert, layout.caKey, 'mid');
    issue('leaf', join(dir, 'mid.pem'), join(dir, 'mid.key'), 'leaf');
    const r = createTrustStore([cert(layout.caCert)]).validate(cert(join(dir, 'leaf.pem')), {
      intermediates: [cert(join(dir, 'mid.pem'))],
    });
    expect(r.path).toHaveLength(3);
    expect(codes(r)).toEqual(['PKI_NOT_A_CA']);
  });
});

describe('loadTrustStore', () => {
  it('loads anchors and CRLs from files and directories, and a PEM bundle of several anchors', () => {
    const bundle = join(root, 'bundle.pem');
    writeFileSync(bundle, readFileSync(foreign.caCert, 'utf8') + readFileSync(layout.caCert, 'utf8'));
    const fromBundle = loadTrustStore([bundle]);
    expect(fromBundle.anchors).toHaveLength(2);
    expect(fromBundle.validate(cert(foreign.tsaCert)).valid).toBe(true);
    expect(fromBundle.validate(cert(layout.tsaCert)).valid).toBe(true);

    const fromDir = loadTrustStore([join(layout.dir, 'ca')]);
    expect(fromDir.anchors).toHaveLength(1);
    const r = fromDir.validate(cert(layout.recipient('alice').cert));
    expect(r.valid).toBe(true);
    // the directory's ca.crl.pem was loaded as a CRL
    expect(r.findings.map((f) => f.code)).not.toContain('PKI_REVOCATION_NOT_CHECKED');
  });

  it('fails loudly on missing files and on an empty store', () => {
    expect(() => loadTrustStore([join(root, 'nope.pem')])).toThrow(
      expect.objectContaining({ code: 'PKI_TRUST_STORE_UNREADABLE' }),
    );
    const err = (() => {
      try {
        return loadTrustStore([layout.caCrl]);
      } catch (e) {
        return e;
      }
    })();
    expect(isQerdsError(err, 'PKI_TRUST_STORE_EMPTY')).toBe(true);
  });
});
