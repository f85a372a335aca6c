import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import type { TsaClient } from '../../src/core/ports.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import {
  loadSigningIdentity,
  loadTrustStore,
  type SigningIdentity,
  type TrustStore,
} from '../../src/pki/index.js';
import { archiveRenewal, augmentXmlSeal, verifyXmlSeal } from '../../src/seal/index.js';
import { archiveTimestampInput } from '../../src/seal/archive-timestamp.js';
import { descendants, NS, parseXmlStrict } from '../../src/seal/xml.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';
import { opensslTsaCertificate } from './long-lived-tsa.js';

const DAY = 86_400_000;
const samples = evidenceSamples();

/** `openssl ts -verify` of a token over data: the token made by our TSA checks out in OpenSSL too. */
function opensslTsVerify(tokenB64: string, data: Buffer, caFile: string, untrusted: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-lta-ts-'));
  writeFileSync(join(dir, 't.der'), Buffer.from(tokenB64, 'base64'));
  writeFileSync(join(dir, 'data'), data);
  return execFileSync(
    'openssl',
    [
      'ts',
      '-verify',
      '-data',
      join(dir, 'data'),
      '-in',
      join(dir, 't.der'),
      '-token_in',
      '-CAfile',
      caFile,
      '-untrusted',
      untrusted,
    ],
    {
      encoding: 'utf8',
      stdio: 'pipe',
    },
  );
}

describe('XAdES B-LT and B-LTA (EN 319 132-1 §5.4–5.5): augmentXmlSeal and validation over time', () => {
  let pki: ReturnType<typeof sharedTestPki>;
  let identity: SigningIdentity;
  let trust: TrustStore;
  let tsa: TsaClient;
  let archiveTsa: TsaClient;
  let archiveTsaCert: string;
  let bt: string;
  let sealExpiry: Date;
  const crl = (): string => readFileSync(sharedTestPki().caCrl, 'utf8');

  beforeAll(async () => {
    pki = sharedTestPki();
    identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    trust = loadTrustStore([pki.caCert]);
    tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const longTsa = opensslTsaCertificate(pki, 3000);
    archiveTsaCert = longTsa.certFile;
    archiveTsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(longTsa.certFile, longTsa.keyFile) }),
    );
    const sealer = xadesSealer({
      identity,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    bt = (await issueEvidence(samples.SubmissionAcceptance, sealer)).xml;
    sealExpiry = new Date(identity.certificate.validTo);
  });

  const lta = (xml = bt) =>
    augmentXmlSeal(xml, {
      level: 'B-LTA',
      tsa: archiveTsa,
      crls: [crl()],
      certificates: [trust.anchors[0]!],
    });

  it('B-LT embeds the CA certificate and the CRL; xmlsec1 still verifies; level B-LT', async () => {
    const blt = await augmentXmlSeal(bt, { level: 'B-LT', crls: [crl()], certificates: [...trust.anchors] });
    expect(blt).toContain('<xades:CertificateValues><xades:EncapsulatedX509Certificate>');
    expect(blt).toMatch(
      /<xades:RevocationValues><xades:CRLValues><xades:EncapsulatedCRLValue>[A-Za-z0-9+/=]+</,
    );
    expect(blt.indexOf('xades:SignatureTimeStamp')).toBeLessThan(blt.indexOf('xades:CertificateValues'));
    expect(xmlsecVerify(blt, pki.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(blt, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.level).toBe('B-LT');
  });

  it('B-LTA: ArchiveTimeStamp in the 1.4.1 namespace after the validation data; xmlsec1, openssl ts and we verify', async () => {
    const xml = await lta();
    expect(xml).toMatch(
      /<xadesv141:ArchiveTimeStamp xmlns:xadesv141="http:\/\/uri.etsi.org\/01903\/v1.4.1#" Id="[^"]+-archts-1">/,
    );
    expect(xml.indexOf('xades:RevocationValues')).toBeLessThan(xml.indexOf('xadesv141:ArchiveTimeStamp'));
    expect(xmlsecVerify(xml, pki.caCert).ok).toBe(true);
    // The B-LTA evidence still validates against the evidence schema (ds:Signature content is lax there).
    const xsd = fileURLToPath(new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url));
    expect(
      spawnSync('xmllint', ['--noout', '--schema', xsd, '-'], { input: xml, encoding: 'utf8' }).stderr,
    ).toContain('- validates');
    const v = await verifyXmlSeal(xml, { trust });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.level).toBe('B-LTA');
    expect(v.timestamps?.map((t) => [t.kind, t.valid])).toEqual([
      ['signature', true],
      ['archive', true],
    ]);
    // Both tokens pass openssl ts -verify over the data they cover: the canonical SignatureValue
    // (written out by hand) and the archive timestamp input (EN 319 132-1 §5.5.2.2).
    const tokens = [...xml.matchAll(/<xades:EncapsulatedTimeStamp>([^<]+)</g)].map((m) => m[1] as string);
    expect(tokens).toHaveLength(2);
    const m = /<ds:SignatureValue Id="([^"]+)">([^<]+)<\/ds:SignatureValue>/.exec(xml);
    const sigValue = `<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="${m?.[1]}">${m?.[2]}</ds:SignatureValue>`;
    expect(opensslTsVerify(tokens[0] as string, Buffer.from(sigValue), pki.caCert, pki.tsaCert)).toContain(
      'Verification: OK',
    );
    const doc = parseXmlStrict(xml, 'BAD_REQUEST');
    const signature = descendants(doc, NS.ds, 'Signature')[0] as Element;
    const usp = descendants(doc, NS.xades, 'UnsignedSignatureProperties')[0];
    const archive = descendants(doc, NS.xades141, 'ArchiveTimeStamp')[0];
    const input = archiveTimestampInput(signature, v.signedReferences, usp, archive);
    expect(opensslTsVerify(tokens[1] as string, input, pki.caCert, archiveTsaCert)).toContain(
      'Verification: OK',
    );
    expect(() =>
      opensslTsVerify(
        tokens[1] as string,
        Buffer.concat([input, Buffer.from(' ')]),
        pki.caCert,
        archiveTsaCert,
      ),
    ).toThrow();
  });

  it('verified with the clock past the seal and TSA certificates’ expiry: B-LTA TOTAL-PASSED, B-T not', async () => {
    const xml = await lta();
    const at = new Date(sealExpiry.getTime() + 30 * DAY);
    const report = await verifyEvidence(xml, { trust, at });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.seal?.level).toBe('B-LTA');
    // The signature timestamp was validated at the archive timestamp's time, not at `at`.
    expect(report.seal?.timestamps?.[0]?.validatedAt.getTime()).toBeLessThan(Date.now() + 60_000);
    const old = await verifyEvidence(bt, { trust, at });
    expect(old).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    // An archive timestamp by a TSA whose certificate has expired too proves nothing at that time.
    const sameTsa = await augmentXmlSeal(bt, { level: 'B-LTA', tsa, crls: [crl()] });
    expect((await verifyEvidence(sameTsa, { trust, at })).indication).toBe('INDETERMINATE');
    // …and before any expiry, all three are fine: the B-LTA forms with the CRL they carry; the B-T one, which
    // carries none, with the CA's CRL given (without it the seal's revocation status is unknown: TRY_LATER).
    for (const x of [xml, sameTsa])
      expect((await verifyEvidence(x, { trust })).indication).toBe('TOTAL-PASSED');
    expect(await verifyEvidence(bt, { trust })).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'TRY_LATER',
    });
    expect((await verifyEvidence(bt, { trust: loadTrustStore([pki.caCert, pki.caCrl]) })).indication).toBe(
      'TOTAL-PASSED',
    );
  });

  it('re-archiving adds TimeStampValidationData and a second ArchiveTimeStamp that covers the first', async () => {
    const once = await lta();
    const twice = await augmentXmlSeal(once, { level: 'B-LTA', tsa: archiveTsa, crls: [crl()] });
    expect(twice).toContain('<xadesv141:TimeStampValidationData');
    expect(twice).toMatch(/-archts-2"/);
    expect(xmlsecVerify(twice, pki.caCert).ok).toBe(true);
    const v = await verifyXmlSeal(twice, { trust });
    expect(v.level).toBe('B-LTA');
    expect(v.timestamps?.map((t) => t.kind)).toEqual(['signature', 'archive', 'archive']);
    expect(v.timestamps?.every((t) => t.valid)).toBe(true);
    // The first archive timestamp is validated at the second one's genTime.
    expect(v.timestamps?.[1]?.validatedAt.getTime()).toBe(v.timestamps?.[2]?.genTime?.getTime());
    // Dropping the embedded CRL of the first round breaks the second archive timestamp's imprint.
    const stripped = twice.replace(
      /<xades:RevocationValues>[\s\S]*?<\/xades:RevocationValues>/,
      '<xades:RevocationValues><xades:CRLValues/></xades:RevocationValues>',
    );
    const s = await verifyEvidence(stripped, { trust });
    expect(s).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
  });

  it('archiveRenewal: due when the newest timestamp’s TSA certificate expires within the margin', async () => {
    const margin = 90 * DAY;
    const tsaExpiry = new Date(new X509Certificate(readFileSync(pki.tsaCert)).validTo);
    expect(await archiveRenewal(bt, { now: new Date(), renewBeforeMs: margin })).toMatchObject({
      due: false,
      expires: tsaExpiry,
    });
    expect(
      (await archiveRenewal(bt, { now: new Date(tsaExpiry.getTime() - margin + DAY), renewBeforeMs: margin }))
        .due,
    ).toBe(true);
    // After re-archiving with the long-lived TSA, the newest token is the archive one: no longer due then.
    const xml = await lta();
    const r = await archiveRenewal(xml, {
      now: new Date(tsaExpiry.getTime() - margin + DAY),
      renewBeforeMs: margin,
    });
    expect(r.due).toBe(false);
    expect(r.reason).toContain('ArchiveTimeStamp');
  });

  it('refuses to augment a B-B seal, or B-LTA without a TSA', async () => {
    const bb = (
      await issueEvidence(
        samples.RelayAcceptance,
        xadesSealer({ identity, clock: { now: () => new Date() }, idGenerator: sequentialIdGenerator() }),
      )
    ).xml;
    await expect(augmentXmlSeal(bb, { level: 'B-LT' })).rejects.toMatchObject({
      code: 'SEAL_AUGMENT_NOT_B_T',
    });
    await expect(augmentXmlSeal(bt, { level: 'B-LTA' })).rejects.toMatchObject({
      code: 'SEAL_AUGMENT_NOT_B_T',
    });
    const tampered = bt.replace('<EventTime>2025-03-01T09:30', '<EventTime>2025-03-01T09:31');
    await expect(augmentXmlSeal(tampered, { level: 'B-LTA', tsa: archiveTsa })).rejects.toMatchObject({
      code: 'SEAL_DIGEST_MISMATCH',
    });
  });
});
