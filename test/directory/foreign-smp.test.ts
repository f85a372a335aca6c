import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/index.js';
import {
  readServiceMetadata,
  STRICT_SMP_SIGNATURE_RULES,
  verifySmpSignature,
  type SmpSignatureRules,
} from '../../src/directory/index.js';
import { peppolSmpSignatureRules } from '../../src/peppol/index.js';
import { createTrustStore } from '../../src/pki/index.js';

/**
 * Real Peppol SMP answers from peppol-commons' test resources (test/fixtures/smp/README.md), read by our SMP reader.
 * The OpenPEPPOL SMP CA - G2 is not among the stored text sources, so each signer's own certificate (from the
 * answer's KeyInfo) is pinned as the trust anchor; the certificates expired in 2020 and 2021, so "valid" is asked
 * for a time within their lifetime and "today" gives the expiry refusal.
 */

const fixture = (name: string) => readFileSync(new URL(`../fixtures/smp/${name}`, import.meta.url), 'utf8');
const signerOf = (xml: string) =>
  new X509Certificate(
    Buffer.from(/<(?:\w+:)?X509Certificate>([^<]+)</.exec(xml)![1]!.replace(/\s+/g, ''), 'base64'),
  );
const SHA1_ON = peppolSmpSignatureRules({ allowRsaSha1: true });

function outcome(xml: string, at: Date, rules: SmpSignatureRules): string {
  try {
    verifySmpSignature(xml, createTrustStore([signerOf(xml)]), at, rules);
    return 'VALID';
  } catch (error) {
    if (isQerdsError(error)) return error.code;
    throw error;
  }
}

const CASES = [
  {
    file: 'signed-service-metadata2.xml',
    signer: 'CN=PNO000070, OU=PEPPOL PRODUCTION SMP, O=NetEDI Limited, C=GB',
    at: new Date('2020-06-01T00:00:00Z'),
    participant: '0088:5060482240009',
    endpoint: 'https://peppol.netedi.com/receive.aspx',
    transportProfile: 'busdox-transport-as2-ver1p0',
  },
  {
    file: 'signed-service-metadata3-c14n-inclusive.xml',
    signer: 'CN=PNL000052, OU=PEPPOL PRODUCTION SMP, O=eConnect International B.V., C=NL',
    at: new Date('2019-06-01T00:00:00Z'),
    participant: '0106:55872255',
    endpoint: 'https://peppolap.everbinding.nl/as2',
    transportProfile: 'busdox-transport-as2-ver1p0',
  },
] as const;

describe('foreign Peppol SMP answers (peppol-commons test resources) read by our SMP reader', () => {
  it.each(CASES)(
    '$file: verifies within the signer certificate lifetime with the RSA-SHA1 switch on, and reads',
    (c) => {
      const xml = fixture(c.file);
      const signer = signerOf(xml);
      expect(signer.subject.split('\n').join(', ')).toBe(c.signer);
      expect(signer.issuer).toContain('CN=PEPPOL SERVICE METADATA PUBLISHER CA - G2');
      const check = verifySmpSignature(xml, createTrustStore([signer]), c.at, SHA1_ON);
      expect(check.legacySha1).toBe(true);
      expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
      const metadata = readServiceMetadata(check.signedDocument);
      expect(metadata).toMatchObject({
        dialect: 'peppol',
        participant: { scheme: 'iso6523-actorid-upis', value: c.participant },
      });
      expect(metadata.processes[0]?.endpoints[0]).toMatchObject({
        address: c.endpoint,
        transportProfile: c.transportProfile,
      });
    },
  );

  it.each(CASES)(
    '$file: refused on the algorithm with the switch off, as untrusted (expired) today, and tampered',
    (c) => {
      const xml = fixture(c.file);
      expect(outcome(xml, c.at, peppolSmpSignatureRules())).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
      expect(outcome(xml, c.at, STRICT_SMP_SIGNATURE_RULES)).toBe('DIRECTORY_SMP_SIGNATURE_ALGORITHM');
      let today: unknown;
      try {
        verifySmpSignature(xml, createTrustStore([signerOf(xml)]), new Date(), SHA1_ON);
      } catch (error) {
        today = error;
      }
      expect(isQerdsError(today, 'DIRECTORY_SMP_SIGNATURE_UNTRUSTED')).toBe(true);
      expect((today as Error).message).toContain('PKI_CERT_EXPIRED');
      expect(outcome(xml.replace(c.endpoint, 'https://attacker.example/as4'), c.at, SHA1_ON)).toBe(
        'DIRECTORY_SMP_SIGNATURE_INVALID',
      );
    },
  );

  it("the signer's clientAuth-only key usage is why Peppol rules admit TLS-only SMP signers: without that, the role check refuses it", () => {
    const xml = fixture('signed-service-metadata2.xml');
    const sha1WithoutTlsSigners: SmpSignatureRules = {
      algorithms: (d) => SHA1_ON.algorithms(d),
      tlsEkuSigners: () => false,
    };
    expect(outcome(xml, new Date('2020-06-01T00:00:00Z'), sha1WithoutTlsSigners)).toBe(
      'DIRECTORY_SMP_SIGNER_ROLE',
    );
  });

  it('signed-service-metadata1.xml: its digest does not match its content as stored, so it is refused as invalid', () => {
    const xml = fixture('signed-service-metadata1.xml');
    expect(outcome(xml, new Date('2020-06-01T00:00:00Z'), SHA1_ON)).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
  });
});
