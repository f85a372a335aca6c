import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateFacts, TSL_SIGNING_EKU } from '../../src/pki/index.js';
import { loadPointedTrustList, loadTrustList, TSL_XML_MIME_TYPE } from '../../src/trust-list/index.js';
import { isQerdsError } from '../../src/core/index.js';

/**
 * The EU LOTL and two national lists as EU DSS keeps them for its tests (test/fixtures/trust-list/esig-dss):
 * TS 119 612 authenticates the LOTL signer by the certificates the Official Journal publishes and a national
 * list's signer by the LOTL pointer's ServiceDigitalIdentity — pinned certificates, which need not carry the
 * tslSigning EKU (and the real ones do not).
 */
const fixture = (name: string) => new URL(`../fixtures/trust-list/esig-dss/${name}`, import.meta.url);
const read = (name: string) => readFileSync(fixture(name), 'utf8');
/** The LOTL signer as DSS's TLValidatorTaskTest pins it (its OJ-published certificate), not read from the list. */
const ojSigner = new X509Certificate(readFileSync(fixture('eu-lotl-signer-oj.cert.pem')));
/** The LOTL's and the lists' own time (LOTL 248 of 2019-09-04); they are long past their NextUpdate. */
const at = new Date('2019-09-05T00:00:00Z');
const loadLotl = () =>
  loadTrustList(read('eu-lotl.xml'), { signerAnchors: [ojSigner], at, allowStale: true });
const thrownCode = (e: unknown) => (isQerdsError(e) ? e.code : String(e));
const hasTslSigning = (c: X509Certificate) =>
  certificateFacts(c).extendedKeyUsage?.usages.includes(TSL_SIGNING_EKU) ?? false;
const flip = (xml: string, marker: string) => {
  const i = xml.indexOf(marker) + marker.length + 2;
  return `${xml.slice(0, i)}${xml[i] === 'x' ? 'y' : 'x'}${xml.slice(i + 1)}`;
};

describe('the EU LOTL and the lists it points to', () => {
  it('the LOTL loads with its OJ-published signer pinned, although that certificate lacks tslSigning', async () => {
    const lotl = await loadLotl();
    expect(lotl.signer.fingerprint256).toBe(ojSigner.fingerprint256);
    expect(lotl.signerPinned).toBe(true);
    expect(hasTslSigning(lotl.signer)).toBe(false);
    expect(certificateFacts(lotl.signer).extendedKeyUsage?.usages).toEqual(['1.3.6.1.5.5.7.3.4']);
    expect(lotl.territory).toBe('EU');
    expect(lotl.services).toEqual([]);
    expect(lotl.pointers).toHaveLength(44);
    const ie = lotl.pointers!.filter((p) => p.territory === 'IE');
    expect(ie.map((p) => [p.location, p.mimeType, p.certificates.length])).toEqual([
      ['http://files.dcenr.gov.ie/rh/Irelandtslsigned.xml', TSL_XML_MIME_TYPE, 4],
    ]);
    // The LOTL's pointer to itself names the OJ signer among its certificates.
    const self = lotl.pointers!.find((p) => p.territory === 'EU' && p.mimeType === TSL_XML_MIME_TYPE)!;
    expect(self.certificates.map((c) => c.fingerprint256)).toContain(ojSigner.fingerprint256);
  });

  it('refused when the anchor is not its signer (TL_SIGNATURE_INVALID, no chain) and when one character changed', async () => {
    // A genuine list signer's certificate, but Ireland's, not the LOTL's.
    const other = (await loadLotl()).pointers!.find((p) => p.territory === 'IE')!.certificates[0]!;
    expect(other.fingerprint256).not.toBe(ojSigner.fingerprint256);
    const wrong = await loadTrustList(read('eu-lotl.xml'), {
      signerAnchors: [other],
      at,
      allowStale: true,
    }).catch((e: unknown) => e);
    expect(thrownCode(wrong)).toBe('TL_SIGNATURE_INVALID');
    expect((wrong as Error).message).toContain('INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND');
    const forged = flip(read('eu-lotl.xml'), '<TSLLocation>https://');
    const refused = await loadTrustList(forged, { signerAnchors: [ojSigner], at, allowStale: true }).catch(
      (e: unknown) => e,
    );
    expect(thrownCode(refused)).toBe('TL_SIGNATURE_INVALID');
    expect((refused as Error).message).toContain('TOTAL-FAILED/HASH_FAILURE');
  });

  it("Ireland's list loads through the LOTL's IE pointer: signer pinned without tslSigning; old statuses read as not in force", async () => {
    const lotl = await loadLotl();
    const ie = await loadPointedTrustList(read('ie-tl.xml'), lotl, { at, allowStale: true });
    expect(ie.territory).toBe('IE');
    expect(ie.signerPinned).toBe(true);
    expect(hasTslSigning(ie.signer)).toBe(false);
    expect(ie.signer.subject).toContain('CN=Rory Hinchy');
    expect(ie.services).toHaveLength(4);
    // The history keeps statuses of the Directive 1999/93 lists: read as `other`, never in force.
    const legacy = ie.services.flatMap((s) => s.statuses).filter((p) => p.status === 'other');
    expect(legacy.map((p) => p.statusUri)).toContain(
      'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/undersupervision',
    );
    const granted = ie.services.filter((s) => s.statusAt(at) === 'granted');
    expect(granted.length).toBeGreaterThan(0);
    expect(ie.trustStore(at).anchors.length).toBe(granted.flatMap((s) => s.certificates).length);
    const service = granted[0]!;
    const status = ie.statusOf(service.certificates[0]!, at);
    expect(status.qualified).toBe(service.type !== 'other');
    expect(status.via).toBe('service');
  });

  it("Cyprus's list loads through its pointer (its signer carries tslSigning as well)", async () => {
    const cy = await loadPointedTrustList(read('cy-tl.xml'), await loadLotl(), { at, allowStale: true });
    expect(cy.territory).toBe('CY');
    expect(cy.signerPinned).toBe(true);
    expect(hasTslSigning(cy.signer)).toBe(true);
    expect(cy.services).toHaveLength(2);
  });

  it("Ireland's list offered as Cyprus's (the CY pointer) is refused: its signer is not among that pointer's certificates", async () => {
    const lotl = await loadLotl();
    const cyLocation = lotl.pointers!.find((p) => p.territory === 'CY' && p.mimeType === TSL_XML_MIME_TYPE)!;
    const asCy = await loadPointedTrustList(read('ie-tl.xml'), lotl, {
      at,
      allowStale: true,
      location: cyLocation.location,
    }).catch((e: unknown) => e);
    expect(thrownCode(asCy)).toBe('TL_SIGNATURE_INVALID');
    expect((asCy as Error).message).toContain('NO_CERTIFICATE_CHAIN_FOUND');
    // One character of a signed service name changed: the pinned signer does not save it.
    const forged = flip(read('ie-tl.xml'), '<Name xml:lang="en">Post.Trust');
    expect(
      thrownCode(await loadPointedTrustList(forged, lotl, { at, allowStale: true }).catch((e: unknown) => e)),
    ).toBe('TL_SIGNATURE_INVALID');
    // A list for a territory the LOTL has no pointer for: nothing to pin it.
    const noPointer = read('cy-tl.xml').replace('<SchemeTerritory>CY<', '<SchemeTerritory>ZZ<');
    const refused = await loadPointedTrustList(noPointer, lotl, { at, allowStale: true }).catch(
      (e: unknown) => e,
    );
    expect(thrownCode(refused)).toBe('TL_SIGNATURE_INVALID');
    expect((refused as Error).message).toContain('no pointer');
  });
});
