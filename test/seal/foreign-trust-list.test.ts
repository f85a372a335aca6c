import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { certificateFacts, createTrustStore, TSL_SIGNING_EKU } from '../../src/pki/index.js';
import { verifyXadesDocument } from '../../src/seal/index.js';
import { loadTrustList } from '../../src/trust-list/index.js';

/** Trusted lists other operators sign (TS 119 612), as EU DSS keeps them for its tests. */
const read = (name: string) =>
  readFileSync(new URL(`../fixtures/seal/foreign/dss/${name}`, import.meta.url), 'utf8');

describe('trusted lists of other operators', () => {
  it('the EU LOTL of 2015 (SigningCertificate v1, enveloped exclusive C14N): its signature verifies with its signer as anchor', async () => {
    const xml = read('lotl.xml');
    const at = new Date('2015-03-01T00:00:00Z');
    const found = await verifyXadesDocument(xml, { trust: createTrustStore([]), at });
    expect(found.kind).toBe('trusted list');
    expect(found.signatures[0]?.signatureValueVerified).toBe(true);
    const signer = found.signatures[0]!.signer!;
    const r = await verifyXadesDocument(xml, { trust: createTrustStore([signer]), at });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.indication).toBe('TOTAL-PASSED');
    expect(r.signatures[0]?.signedDocument).toContain('<SchemeOperatorName>');
    expect(r.signatures[0]?.signedDocument).not.toContain('Signature');
  });

  it('loadTrustList verifies a SigningCertificate v1 list at --at (the list signer judged then); the pinned signer needs no tslSigning EKU', async () => {
    const xml = read('lotl.xml');
    const signer = (await verifyXadesDocument(xml, { trust: createTrustStore([]) })).signatures[0]!.signer!;
    // The 2015 LOTL signer certificate has no extended key usage at all. Given as the signer anchor itself
    // (pinned, as the OJ publication pins the LOTL signer) it is accepted without tslSigning (TS 119 612; EU DSS
    // does the same); test/trust-list/eu-lotl.test.ts has the 2019 LOTL and two national lists.
    expect(certificateFacts(signer).extendedKeyUsage?.usages.includes(TSL_SIGNING_EKU) ?? false).toBe(false);
    const list = await loadTrustList(xml, {
      signerAnchors: [signer],
      at: new Date('2015-03-01T00:00:00Z'),
      allowStale: true,
    });
    expect(list.signerPinned).toBe(true);
    expect(list.territory).toBe('EU');
    expect(list.pointers?.length).toBeGreaterThan(0);
    // At today's date that certificate has expired: the signature itself is refused.
    await expect(loadTrustList(xml, { signerAnchors: [signer], allowStale: true })).rejects.toThrow(
      /signature does not verify.*PKI_CERT_EXPIRED|PKI_CERT_EXPIRED/s,
    );
  });

  it('one character of a listed pointer changed: TL_SIGNATURE_INVALID', async () => {
    const xml = read('lotl.xml');
    const signer = (await verifyXadesDocument(xml, { trust: createTrustStore([]) })).signatures[0]!.signer!;
    const i = xml.indexOf('<TSLLocation>') + '<TSLLocation>'.length + 8;
    const forged = `${xml.slice(0, i)}${xml[i] === 'x' ? 'y' : 'x'}${xml.slice(i + 1)}`;
    await expect(
      loadTrustList(forged, {
        signerAnchors: [signer],
        at: new Date('2015-03-01T00:00:00Z'),
        allowStale: true,
      }),
    ).rejects.toMatchObject({ code: 'TL_SIGNATURE_INVALID' });
  });
});
