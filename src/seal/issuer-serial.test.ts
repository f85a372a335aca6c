import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, GeneralName, GeneralNames } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { issuerSerialV2Der } from './issuer-serial.js';

describe('issuerSerialV2Der (DER slices)', () => {
  it('equals the IssuerSerial an ASN.1 library encodes, for RSA certificates of the openssl PKI', () => {
    const pki = sharedTestPki();
    for (const file of [pki.ap('c2').sealCert, pki.ap('c3').sealCert, pki.tsaCert]) {
      const cert = new X509Certificate(readFileSync(file));
      const parsed = AsnConvert.parse(cert.raw, Certificate);
      const names = Buffer.from(
        AsnConvert.serialize(
          new GeneralNames([new GeneralName({ directoryName: parsed.tbsCertificate.issuer })]),
        ),
      );
      const serial = Buffer.from(parsed.tbsCertificate.serialNumber);
      const expected = Buffer.concat([
        Buffer.from([0x30, names.length + serial.length + 2]),
        names,
        Buffer.from([0x02, serial.length]),
        serial,
      ]);
      expect(names.length + serial.length + 2).toBeLessThan(128);
      expect(issuerSerialV2Der(cert).toString('hex')).toBe(expected.toString('hex'));
    }
  });
});
