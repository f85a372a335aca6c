import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../core/ids.js';
import type { Clock } from '../core/ports.js';
import { loadSigningIdentity, loadTrustStore, type SigningIdentity, type TrustStore } from '../pki/index.js';
import { opensslTsa } from '../../test/helpers/openssl-tsa.js';
import { sharedTestPki, foreignTestPki } from '../../test/helpers/pki.js';
import { opensslEcSeal, xmlsecVerify } from '../../test/helpers/xmlsec.js';
import { ECDSA_SHA256_URI, sealXml, verifyXmlSeal } from './index.js';

const fixture = readFileSync(
  new URL('../../test/fixtures/seal/sample-document.xml', import.meta.url),
  'utf8',
);
const clock: Clock = { now: () => new Date() };

describe('XAdES seal (EN 319 132-1 enveloped, B-B / B-T)', () => {
  let pki: ReturnType<typeof sharedTestPki>;
  let rsa: SigningIdentity;
  let ec: SigningIdentity;
  let trust: TrustStore;

  beforeAll(() => {
    pki = sharedTestPki();
    rsa = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const ecFiles = opensslEcSeal(pki);
    ec = loadSigningIdentity(ecFiles.certFile, ecFiles.keyFile);
    trust = loadTrustStore([pki.caCert]);
  });

  const seal = (identity: SigningIdentity, extra: Partial<Parameters<typeof sealXml>[1]> = {}) =>
    sealXml(fixture, { identity, clock, idGenerator: sequentialIdGenerator(), ...extra });

  it('xmlsec1 verifies an RSA B-B seal, and so do we', async () => {
    const signed = await seal(rsa);
    const x = xmlsecVerify(signed, pki.caCert);
    expect(x.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(x.ok).toBe(true);
    const v = await verifyXmlSeal(signed, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v).toMatchObject({ valid: true, level: 'B-B' });
    expect(v.signer?.fingerprint256).toBe(rsa.certificate.fingerprint256);
    expect(v.signedReferences).toHaveLength(2);
    expect(v.signedDocument).toContain('Quarterly report &amp; invoice');
    expect(v.signedDocument).not.toContain('Signature');
  });

  it('ECDSA P-256 (openssl-made key): ecdsa-sha256 by default, xmlsec1 and we verify', async () => {
    const signed = await seal(ec);
    expect(signed).toContain(`Algorithm="${ECDSA_SHA256_URI}"`);
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(signed, { trust });
    expect(v).toMatchObject({ valid: true, level: 'B-B' });
  });

  it('B-T with an openssl TSA: token verifies with openssl ts over the canonical SignatureValue', async () => {
    const tsa = opensslTsa(pki);
    const signed = await seal(rsa, { tsa });
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(signed, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.level).toBe('B-T');
    expect(v.timestamp?.valid).toBe(true);
    expect(Math.abs((v.timestamp?.genTime.getTime() ?? 0) - (v.signingTime?.getTime() ?? 0))).toBeLessThan(
      5_000,
    );

    // Exclusive C14N of ds:SignatureValue, written out by hand (not by our canonicalizer).
    const m = /<ds:SignatureValue Id="([^"]+)">([^<]+)<\/ds:SignatureValue>/.exec(signed);
    expect(m).not.toBeNull();
    const c14n = `<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="${m?.[1]}">${m?.[2]}</ds:SignatureValue>`;
    const token = /<xades:EncapsulatedTimeStamp>([^<]+)</.exec(signed)?.[1] ?? '';
    const dir = mkdtempSync(join(tmpdir(), 'qerds-seal-ts-'));
    writeFileSync(join(dir, 'data'), c14n);
    writeFileSync(join(dir, 'token.der'), Buffer.from(token, 'base64'));
    const out = execFileSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        join(dir, 'data'),
        '-in',
        join(dir, 'token.der'),
        '-token_in',
        '-CAfile',
        pki.caCert,
      ],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    expect(out).toContain('Verification: OK');
    // …and a different SignatureValue does not match the token.
    writeFileSync(join(dir, 'data'), c14n.replace('</ds:', ' </ds:'));
    expect(() =>
      execFileSync(
        'openssl',
        [
          'ts',
          '-verify',
          '-data',
          join(dir, 'data'),
          '-in',
          join(dir, 'token.der'),
          '-token_in',
          '-CAfile',
          pki.caCert,
        ],
        { stdio: 'pipe' },
      ),
    ).toThrow();
  });

  it('ECDSA B-T verifies', async () => {
    const signed = await seal(ec, { tsa: opensslTsa(pki) });
    const v = await verifyXmlSeal(signed, { trust });
    expect(v).toMatchObject({ valid: true, level: 'B-T' });
  });

  it('one changed byte in the content: xmlsec1 and we both reject', async () => {
    const signed = await seal(rsa);
    const tampered = signed.replace('1234567', '1234568');
    expect(tampered).not.toBe(signed);
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const v = await verifyXmlSeal(tampered, { trust });
    expect(v.valid).toBe(false);
    expect(v.findings.map((f) => f.code)).toContain('SEAL_DIGEST_MISMATCH');
    expect(v.signedDocument).toBeUndefined();
  });

  it('a changed SigningTime breaks the SignedProperties digest', async () => {
    const signed = await seal(rsa);
    const tampered = signed.replace(
      /<xades:SigningTime>(\d{4})/,
      (_, y: string) => `<xades:SigningTime>${Number(y) - 1}`,
    );
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const v = await verifyXmlSeal(tampered, { trust });
    expect(v.findings.map((f) => f.code)).toContain('SEAL_DIGEST_MISMATCH');
  });

  it('a changed SignatureValue fails the signature check; with B-T the timestamp no longer matches', async () => {
    const signed = await seal(rsa, { tsa: opensslTsa(pki) });
    const tampered = signed.replace(
      /(<ds:SignatureValue[^>]*>)(.)/,
      (_, open: string, c: string) => `${open}${c === 'A' ? 'B' : 'A'}`,
    );
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const v = await verifyXmlSeal(tampered, { trust });
    const codes = v.findings.map((f) => f.code);
    expect(codes).toContain('SEAL_SIGNATURE_INVALID');
    expect(codes).toContain('SEAL_TIMESTAMP_HASH_FAILURE');
    expect(v.valid).toBe(false);
  });

  it('sealed under a CA outside the trust store: xmlsec1 and we refuse', async () => {
    const foreign = foreignTestPki();
    const identity = loadSigningIdentity(foreign.ap('c2').sealCert, foreign.ap('c2').sealKey);
    const signed = await seal(identity);
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(false);
    expect(xmlsecVerify(signed, foreign.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(signed, { trust });
    expect(v.valid).toBe(false);
    expect(v.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['PKI_PATH_NOT_FOUND', 'SEAL_CERT_PATH_INVALID']),
    );
    // The same file is fine for someone who trusts that CA.
    expect((await verifyXmlSeal(signed, { trust: loadTrustStore([foreign.caCert]) })).valid).toBe(true);
  });

  it('refuses a duplicate Id (signature wrapping with a second SignedProperties)', async () => {
    const signed = await seal(rsa);
    const props = /<xades:SignedProperties[\s\S]*?<\/xades:SignedProperties>/.exec(signed)?.[0] ?? '';
    const evil = props.replace(/<xades:SigningTime>[^<]+/, '<xades:SigningTime>2001-01-01T00:00:00Z');
    const wrapped = signed.replace(
      '<Empty/>',
      // The copy's prefixes declared, as an attacker would: a document with an unbound prefix is refused earlier.
      `<Empty/><Wrapper xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${evil}</Wrapper>`,
    );
    const v = await verifyXmlSeal(wrapped, { trust });
    expect(v.valid).toBe(false);
    expect(v.findings.map((f) => f.code)).toContain('SEAL_DUPLICATE_ID');
    expect(v.signedReferences).toEqual([]);
  });

  it('refuses a second, injected signature', async () => {
    const signed = await seal(rsa);
    const sig = /<ds:Signature [\s\S]*<\/ds:Signature>/.exec(signed)?.[0] ?? '';
    const other = sig
      .replace(/Id="sig-/g, 'Id="copy-')
      .replace(/URI="#sig-/g, 'URI="#copy-')
      .replace(/Target="#sig-/g, 'Target="#copy-');
    const injected = signed.replace('<Empty/>', `<Empty>${other}</Empty>`);
    const v = await verifyXmlSeal(injected, { trust });
    expect(v.valid).toBe(false);
    expect(v.findings.map((f) => f.code)).toContain('SEAL_MULTIPLE_SIGNATURES');
  });

  it('refuses SHA-1 unless asked to allow it', async () => {
    const signed = await seal(rsa);
    const sha1 = signed.replace(
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    );
    const v = await verifyXmlSeal(sha1, { trust });
    expect(v.findings.map((f) => f.code)).toContain('SEAL_ALGORITHM_FORBIDDEN');
    expect(v.valid).toBe(false);
  });

  it('refuses a KeyInfo certificate that SigningCertificateV2 does not name', async () => {
    const other = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const signed = await seal(rsa);
    const swapped = signed.replace(
      /<ds:X509Certificate>[^<]+<\/ds:X509Certificate>/,
      `<ds:X509Certificate>${other.certificate.raw.toString('base64')}</ds:X509Certificate>`,
    );
    const v = await verifyXmlSeal(swapped, { trust });
    expect(v.findings.map((f) => f.code)).toContain('SEAL_SIGNING_CERT_MISMATCH');
    expect(v.valid).toBe(false);
  });

  it('places the signature under parentXPath and refuses a key that does not fit the algorithm', async () => {
    const signed = await seal(rsa, { parentXPath: "/*/*[local-name()='Note']" });
    expect(signed).toMatch(/<ds:Signature [\s\S]*<\/ds:Signature><\/Note>/);
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);
    expect((await verifyXmlSeal(signed, { trust })).valid).toBe(true);
    await expect(seal(rsa, { signatureAlgorithm: ECDSA_SHA256_URI })).rejects.toMatchObject({
      code: 'SEAL_KEY_MISMATCH',
    });
  });

  it('refuses a DOCTYPE and an unsigned document', async () => {
    const dtd = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`;
    await expect(
      sealXml(dtd, { identity: rsa, clock, idGenerator: sequentialIdGenerator() }),
    ).rejects.toMatchObject({ code: 'SEAL_MALFORMED' });
    expect((await verifyXmlSeal(dtd, { trust })).findings.map((f) => f.code)).toEqual(['SEAL_MALFORMED']);
    const v = await verifyXmlSeal(fixture, { trust });
    expect(v).toMatchObject({ valid: false, level: 'none' });
    expect(v.findings.map((f) => f.code)).toEqual(['SEAL_NO_SIGNATURE']);
  });
});
