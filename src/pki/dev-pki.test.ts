import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError } from '../core/errors.js';
import {
  certificateFacts,
  checkCertificateRole,
  devApId,
  initDevPki,
  loadSigningIdentity,
  revokeCertificate,
  ROLE_FINDINGS,
  type DevPkiLayout,
} from './index.js';

const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });
/** openssl's exit status and combined output, for commands expected to fail. */
const opensslTry = (...args: string[]) => {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

const fixedClock = { now: () => new Date('2026-01-15T09:00:00Z') };
let root: string;
let layout: DevPkiLayout;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qerds-devpki-test-'));
  ({ layout } = await initDevPki({ dir: join(root, 'pki') }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('initDevPki output, checked by openssl', () => {
  it('every leaf chains to the CA and passes the CRL check', () => {
    const leaves = [layout.tsaCert, layout.recipient('alice').cert, layout.recipient('bob').cert];
    for (const ap of ['c2', 'c3'])
      leaves.push(layout.ap(ap).sealCert, layout.ap(ap).tlsCert, layout.ap(ap).encCert);
    for (const leaf of leaves) {
      const out = openssl('verify', '-CAfile', layout.caCert, '-crl_check', '-CRLfile', layout.caCrl, leaf);
      expect(out.trim()).toBe(`${leaf}: OK`);
    }
  });

  it('the CA is a critical CA with keyCertSign and cRLSign and a SKI', () => {
    const text = openssl('x509', '-in', layout.caCert, '-noout', '-text');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toMatch(/Subject: C = JP, O = qerds-ap DEV ONLY, CN = qerds-ap DEV ONLY Root CA/);
  });

  it("the TSA certificate's only EKU is timeStamping, critical (RFC 3161 §2.3)", () => {
    const text = openssl('x509', '-in', layout.tsaCert, '-noout', '-text');
    expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\s*\n/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    // openssl's own purpose check for a TSA signer
    const purpose = openssl('verify', '-CAfile', layout.caCert, '-purpose', 'timestampsign', layout.tsaCert);
    expect(purpose).toContain('OK');
  });

  it('seal, TLS and encryption certificates carry their key usages', () => {
    const seal = openssl('x509', '-in', layout.ap('c2').sealCert, '-noout', '-text');
    expect(seal).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(seal).toMatch(/Authority Key Identifier/);
    expect(seal).toMatch(
      /Subject: C = JP, O = qerds-ap DEV ONLY, OU = Electronic Seal, organizationIdentifier = urn:qerds-ap:ap:c2, CN = qerds-ap DEV ONLY AP c2 e-seal/,
    );
    const tls = openssl('x509', '-in', layout.ap('c3').tlsCert, '-noout', '-text');
    expect(tls).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(tls).toMatch(/DNS:localhost, IP Address:127.0.0.1/);
    expect(
      openssl('verify', '-CAfile', layout.caCert, '-purpose', 'sslserver', layout.ap('c3').tlsCert),
    ).toContain('OK');
    const enc = openssl('x509', '-in', layout.recipient('bob').cert, '-noout', '-text');
    expect(enc).toMatch(/Key Usage: critical\s+Key Encipherment/);
    // The AP's AS4 encryption certificate (eDelivery AS4 1.15 RSA-OAEP): RSA 2048, key encipherment only.
    const apEnc = openssl('x509', '-in', layout.ap('c3').encCert, '-noout', '-text');
    expect(apEnc).toMatch(/Key Usage: critical\s+Key Encipherment\s*\n/);
    expect(apEnc).toMatch(/Public-Key: \(2048 bit\)/);
    expect(apEnc).toMatch(/OU = Encryption, CN = qerds-ap DEV ONLY AP c3 AS4 encryption/);
    expect(apEnc).toMatch(/Authority Key Identifier/);
  });

  it('each AP gets an Ed25519 AS4 signing and an X25519 encryption certificate (eDelivery AS4 2.0) from the CA', () => {
    for (const ap of ['c2', 'c3']) {
      const v2 = layout.edelivery2(ap);
      for (const cert of [v2.signCert, v2.encCert]) {
        const out = openssl('verify', '-CAfile', layout.caCert, '-crl_check', '-CRLfile', layout.caCrl, cert);
        expect(out.trim()).toBe(`${cert}: OK`);
      }
      const sign = openssl('x509', '-in', v2.signCert, '-noout', '-text');
      expect(sign).toMatch(/Public Key Algorithm: ED25519/);
      expect(sign).toMatch(/Key Usage: critical\s+Digital Signature\s*\n/);
      expect(sign).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(sign).toMatch(/Authority Key Identifier/);
      expect(sign).not.toMatch(/Extended Key Usage/);
      expect(sign).toMatch(
        new RegExp(`OU = AS4 Signing, CN = qerds-ap DEV ONLY AP ${ap} AS4 signing Ed25519`),
      );
      // X25519 agrees on keys and nothing else (RFC 8410 §5): keyAgreement alone.
      const enc = openssl('x509', '-in', v2.encCert, '-noout', '-text');
      expect(enc).toMatch(/Public Key Algorithm: X25519/);
      expect(enc).toMatch(/Key Usage: critical\s+Key Agreement\s*\n/);
      expect(enc).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(enc).toMatch(/Subject Key Identifier/);
      expect(enc).toMatch(
        new RegExp(`OU = Encryption, CN = qerds-ap DEV ONLY AP ${ap} AS4 encryption X25519`),
      );
      // The signing certificate may sign AS4; the encryption one may not.
      expect(checkCertificateRole(new X509Certificate(readFileSync(v2.signCert)), 'as4-signer')).toEqual([]);
      expect(
        checkCertificateRole(new X509Certificate(readFileSync(v2.encCert)), 'as4-signer').map((f) => f.code),
      ).toContain(ROLE_FINDINGS.keyUsage);
    }
  });

  it('the CRL is signed by the CA, empty, and valid for 30 days', () => {
    const out = opensslTry('crl', '-in', layout.caCrl, '-CAfile', layout.caCert, '-noout', '-text');
    expect(out.status).toBe(0);
    expect(out.output).toContain('verify OK');
    expect(out.output).toContain('No Revoked Certificates');
    const crl = openssl('crl', '-in', layout.caCrl, '-noout', '-lastupdate', '-nextupdate');
    const [, last, next] = /lastUpdate=(.+)\nnextUpdate=(.+)/.exec(crl) ?? [];
    expect(Date.parse(next ?? '') - Date.parse(last ?? '')).toBe(30 * 86_400_000);
  });

  it('the PKCS#12 opens with OpenSSL 3 without -legacy (PBES2 AES-256) and holds the seal key', () => {
    const p12 = layout.ap('c2').sealP12;
    const certs = opensslTry('pkcs12', '-in', p12, '-passin', 'pass:qerds-dev', '-nokeys', '-info');
    expect(certs.status).toBe(0);
    expect(certs.output).toContain('PBES2, PBKDF2, AES-256-CBC');
    expect(certs.output).toContain('friendlyName: qerds-ap c2 e-seal (DEV ONLY)');
    expect(certs.output).toContain('CN = qerds-ap DEV ONLY AP c2 e-seal');
    const key = openssl('pkcs12', '-in', p12, '-passin', 'pass:qerds-dev', '-nocerts', '-nodes');
    const sealCert = new X509Certificate(readFileSync(layout.ap('c2').sealCert));
    expect(
      createPublicKey(key.slice(key.indexOf('-----BEGIN'))).export({ format: 'pem', type: 'spki' }),
    ).toBe(sealCert.publicKey.export({ format: 'pem', type: 'spki' }));
    expect(opensslTry('pkcs12', '-in', p12, '-passin', 'pass:wrong', '-nokeys').status).not.toBe(0);
  });

  it('keys are PKCS#8, mode 0600, and match their certificates; README warns', () => {
    for (const [cert, key] of [
      [layout.caCert, layout.caKey],
      [layout.tsaCert, layout.tsaKey],
      [layout.ap('c3').sealCert, layout.ap('c3').sealKey],
      [layout.ap('c2').encCert, layout.ap('c2').encKey],
      [layout.recipient('alice').cert, layout.recipient('alice').key],
      [layout.edelivery2('c2').signCert, layout.edelivery2('c2').signKey],
      [layout.edelivery2('c3').encCert, layout.edelivery2('c3').encKey],
    ] as const) {
      expect(readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(loadSigningIdentity(cert, key).certificate.subject).toContain('DEV ONLY');
      // The key is the certificate's: its public half is the one certified.
      expect(
        createPublicKey(createPrivateKey(readFileSync(key))).export({ type: 'spki', format: 'pem' }),
      ).toBe(new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'pem' }));
    }
    // openssl reads the 2.0 keys as what they are (PKCS#8 of Ed25519 and X25519).
    expect(openssl('pkey', '-in', layout.edelivery2('c2').signKey, '-noout', '-text')).toMatch(
      /ED25519 Private-Key/,
    );
    expect(openssl('pkey', '-in', layout.edelivery2('c2').encKey, '-noout', '-text')).toMatch(
      /X25519 Private-Key/,
    );
    expect(readFileSync(join(layout.dir, 'README.txt'), 'utf8')).toMatch(/NEVER use them in production/);
  });
});

describe('initDevPki idempotency', () => {
  it('a second call writes nothing', async () => {
    const files = [
      layout.caCert,
      layout.caKey,
      layout.caCrl,
      layout.ap('c2').sealP12,
      layout.recipient('bob').key,
    ];
    const before = files.map((f) => statSync(f).mtimeMs);
    const again = await initDevPki({ dir: layout.dir });
    expect(again.created).toBe(false);
    expect(files.map((f) => statSync(f).mtimeMs)).toEqual(before);
  });

  it('a partial PKI is refused without force, regenerated with it', async () => {
    const dir = join(root, 'partial');
    cpSync(layout.dir, dir, { recursive: true });
    rmSync(join(dir, 'tsa', 'tsa.key.pem'));
    const err = await initDevPki({ dir }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'PKI_DIR_NOT_EMPTY')).toBe(true);

    const oldCa = readFileSync(join(dir, 'ca', 'ca.crt.pem'), 'utf8');
    const forced = await initDevPki({
      dir,
      force: true,
      clock: fixedClock,
      aps: ['x1'],
      recipients: ['carol'],
    });
    expect(forced.created).toBe(true);
    const newCa = readFileSync(forced.layout.caCert, 'utf8');
    expect(newCa).not.toBe(oldCa);
    expect(existsSync(forced.layout.tsaKey)).toBe(true);
    expect(existsSync(forced.layout.ap('x1').sealP12)).toBe(true);
    expect(existsSync(forced.layout.recipient('carol').cert)).toBe(true);
    // the injected clock sets the validity: backdated one hour, leaves for 825 days
    const seal = new X509Certificate(readFileSync(forced.layout.ap('x1').sealCert));
    expect(new Date(seal.validFrom).toISOString()).toBe('2026-01-15T08:00:00.000Z');
    expect(new Date(seal.validTo).getTime()).toBe(fixedClock.now().getTime() + 825 * 86_400_000);
  });

  it('a PKI made before the AP encryption certificates gets just those, from its own CA', async () => {
    const dir = join(root, 'older');
    cpSync(layout.dir, dir, { recursive: true });
    for (const ap of ['c2', 'c3']) for (const f of ['enc.crt.pem', 'enc.key.pem']) rmSync(join(dir, ap, f));
    const kept = [
      join(dir, 'ca', 'ca.crt.pem'),
      join(dir, 'c2', 'seal.crt.pem'),
      join(dir, 'tsa', 'tsa.key.pem'),
    ];
    const before = kept.map((f) => readFileSync(f, 'utf8'));

    const upgraded = await initDevPki({ dir });
    expect(upgraded.created).toBe(false);
    const l = upgraded.layout;
    expect([...upgraded.added].sort()).toEqual(
      [l.ap('c2').encCert, l.ap('c2').encKey, l.ap('c3').encCert, l.ap('c3').encKey].sort(),
    );
    expect(kept.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
    for (const ap of ['c2', 'c3']) {
      expect(
        openssl('verify', '-CAfile', l.caCert, '-crl_check', '-CRLfile', l.caCrl, l.ap(ap).encCert).trim(),
      ).toBe(`${l.ap(ap).encCert}: OK`);
      expect(statSync(l.ap(ap).encKey).mode & 0o777).toBe(0o600);
      expect(loadSigningIdentity(l.ap(ap).encCert, l.ap(ap).encKey).certificate.subject).toContain(
        `AP ${ap} AS4 encryption`,
      );
    }
    // complete now: a further call writes nothing
    expect(await initDevPki({ dir })).toMatchObject({ created: false, added: [] });
  });

  it('a PKI made before the eDelivery AS4 2.0 identities gets just those, from its own CA', async () => {
    const dir = join(root, 'before-v2');
    cpSync(layout.dir, dir, { recursive: true });
    for (const ap of ['c2', 'c3'])
      for (const f of [
        'as4-ed25519.crt.pem',
        'as4-ed25519.key.pem',
        'enc-x25519.crt.pem',
        'enc-x25519.key.pem',
      ])
        rmSync(join(dir, ap, f));
    const encBefore = readFileSync(join(dir, 'c2', 'enc.crt.pem'), 'utf8');
    const upgraded = await initDevPki({ dir });
    const l = upgraded.layout;
    expect(upgraded.created).toBe(false);
    expect([...upgraded.added].sort()).toEqual(
      ['c2', 'c3'].flatMap((ap) => Object.values(l.edelivery2(ap))).sort(),
    );
    expect(readFileSync(l.ap('c2').encCert, 'utf8')).toBe(encBefore);
    for (const ap of ['c2', 'c3'])
      for (const cert of [l.edelivery2(ap).signCert, l.edelivery2(ap).encCert])
        expect(openssl('verify', '-CAfile', l.caCert, '-crl_check', '-CRLfile', l.caCrl, cert).trim()).toBe(
          `${cert}: OK`,
        );
    expect(await initDevPki({ dir })).toMatchObject({ created: false, added: [] });
  });

  it('a PKI whose seals predate organizationIdentifier gets new seals naming their AP, from its own CA; nothing else changes', async () => {
    const dir = join(root, 'unnamed-seals');
    cpSync(layout.dir, dir, { recursive: true });
    // Stand-in for an older seal: a certificate of the same CA whose subject has no organizationIdentifier.
    cpSync(join(dir, 'c2', 'tls.crt.pem'), join(dir, 'c2', 'seal.crt.pem'));
    const c3Seal = readFileSync(join(dir, 'c3', 'seal.crt.pem'), 'utf8');
    const upgraded = await initDevPki({ dir });
    const l = upgraded.layout;
    expect([...upgraded.added].sort()).toEqual(
      [l.ap('c2').sealCert, l.ap('c2').sealKey, l.ap('c2').sealP12].sort(),
    );
    const seal = loadSigningIdentity(l.ap('c2').sealCert, l.ap('c2').sealKey);
    expect(certificateFacts(seal.certificate).organizationIdentifier).toBe(devApId('c2'));
    expect(
      openssl('verify', '-CAfile', l.caCert, '-crl_check', '-CRLfile', l.caCrl, l.ap('c2').sealCert).trim(),
    ).toBe(`${l.ap('c2').sealCert}: OK`);
    expect(readFileSync(l.ap('c3').sealCert, 'utf8')).toBe(c3Seal);
    expect(await initDevPki({ dir })).toMatchObject({ created: false, added: [] });
  });

  it('refuses AP names that would escape the directory', async () => {
    const err = await initDevPki({ dir: join(root, 'bad'), aps: ['../evil'] }).catch((e: unknown) => e);
    expect(isQerdsError(err, 'PKI_BAD_NAME')).toBe(true);
  });
});

describe('revokeCertificate', () => {
  it('re-issues the CRL so that openssl rejects the revoked certificate and still accepts the others', async () => {
    const dir = join(root, 'revoke');
    cpSync(layout.dir, dir, { recursive: true });
    const { layout: l } = await initDevPki({ dir });
    await revokeCertificate(l, readFileSync(l.ap('c2').sealCert, 'utf8'), 'keyCompromise');
    await revokeCertificate(l, readFileSync(l.recipient('bob').cert, 'utf8'));
    const revoked = opensslTry(
      'verify',
      '-CAfile',
      l.caCert,
      '-crl_check',
      '-CRLfile',
      l.caCrl,
      l.ap('c2').sealCert,
    );
    expect(revoked.status).not.toBe(0);
    expect(revoked.output).toContain('certificate revoked');
    const text = openssl('crl', '-in', l.caCrl, '-noout', '-text');
    expect(text).toContain('Key Compromise');
    expect(text).toMatch(/X509v3 CRL Number:\s+3/);
    expect(
      opensslTry('verify', '-CAfile', l.caCert, '-crl_check', '-CRLfile', l.caCrl, l.recipient('bob').cert)
        .status,
    ).not.toBe(0);
    expect(
      openssl('verify', '-CAfile', l.caCert, '-crl_check', '-CRLfile', l.caCrl, l.ap('c3').sealCert),
    ).toContain('OK');
  });
});
