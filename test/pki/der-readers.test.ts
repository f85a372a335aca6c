import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import { readSignedData } from '../../src/crypto/signed-data-read.js';
import { certificateFacts, type CertificateFacts } from '../../src/pki/certificate-facts.js';
import { parseCrlDer } from '../../src/pki/crl.js';
import { ORGANIZATION_IDENTIFIER_OID } from '../../src/pki/dev-ap-id.js';
import { QC_STATEMENTS_OID, QC_TYPE_OID, QC_TYPES } from '../../src/pki/qc-statements.js';
import { x509 } from '../../src/pki/x509.js';
import { certificateSubject, nameToString, readTbsCertList } from '../../src/pki/x509-read.js';
import { readTstInfo } from '../../src/timestamp/tst-info.js';
import { sharedTestPki } from '../helpers/pki.js';

/*
 * The DER readers of the verify path (pki/x509-read.ts, timestamp/tst-info.ts) against what the libraries they
 * replace (@peculiar/x509, @peculiar/asn1-tsp) read from the same bytes: every certificate, CRL and timestamp
 * token in the fixtures, most of them foreign (EU DSS, xadesjs, phase4, the EU LOTL and national lists).
 */

const fixtures = join(import.meta.dirname, '..', 'fixtures');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const all = files(fixtures);
const b64 = (s: string): Buffer => Buffer.from(s.replace(/\s+|&#13;|&#xD;/g, ''), 'base64');

function fixtureCertificates(): Buffer[] {
  const seen = new Map<string, Buffer>();
  const add = (der: Buffer): void => {
    seen.set(der.toString('base64'), der);
  };
  for (const file of all) {
    if (/\.(cert|crt)\.pem$/.test(file)) {
      for (const m of readFileSync(file, 'latin1').matchAll(
        /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g,
      ))
        add(b64(m[1]!));
    } else if (file.endsWith('.xml')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/<(?:\w+:)?X509Certificate>([^<]+)</g))
        add(b64(m[1]!));
    }
  }
  const pki = sharedTestPki();
  for (const f of [pki.caCert, pki.ap('c2').sealCert, pki.tsaCert])
    add(new X509Certificate(readFileSync(f)).raw);
  // Only what node (OpenSSL) parses: the verify path never sees the others.
  return [...seen.values()].filter((der) => {
    try {
      new X509Certificate(der);
      return true;
    } catch {
      return false;
    }
  });
}

/** The qcStatements schema the earlier implementation decoded with (RFC 3739 §3.2.6). */
class QcStatement {
  statementId = '';
  statementInfo?: ArrayBuffer;
}
AsnType({ type: AsnTypeTypes.Sequence })(QcStatement);
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(QcStatement.prototype, 'statementId');
AsnProp({ type: AsnPropTypes.Any, optional: true })(QcStatement.prototype, 'statementInfo');
class QcStatements extends AsnArray<QcStatement> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: QcStatement })(QcStatements);
class QcTypeSequence extends AsnArray<string> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.ObjectIdentifier })(QcTypeSequence);

/** certificateFacts as computed through @peculiar/x509 before the DER reader replaced it. */
function libraryFacts(der: Buffer): CertificateFacts {
  const parsed = new x509.X509Certificate(Uint8Array.from(der));
  const ku = parsed.getExtension(x509.KeyUsagesExtension);
  const bc = parsed.getExtension(x509.BasicConstraintsExtension);
  const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension);
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  const qcExtension = parsed.getExtension(QC_STATEMENTS_OID);
  let policies: readonly string[] | undefined;
  try {
    policies = parsed.getExtension(x509.CertificatePolicyExtension)?.policies.map(String);
  } catch {
    policies = undefined;
  }
  let qc: CertificateFacts['qc'];
  if (qcExtension) {
    try {
      const statements = AsnConvert.parse(qcExtension.value, QcStatements);
      const types: string[] = [];
      for (const s of statements) {
        if (s.statementId !== QC_TYPE_OID) continue;
        if (!s.statementInfo) throw new Error('QcType without info');
        for (const oid of AsnConvert.parse(s.statementInfo, QcTypeSequence))
          types.push(QC_TYPES[oid as keyof typeof QC_TYPES] ?? oid);
      }
      const ids = statements.map((s) => s.statementId);
      qc = {
        compliance: ids.includes('0.4.0.1862.1.1'),
        qscd: ids.includes('0.4.0.1862.1.4'),
        types,
        statements: ids,
      };
    } catch {
      qc = 'malformed';
    }
  }
  return {
    keyUsage: ku?.usages,
    basicConstraints: bc ? { ca: bc.ca, pathLength: bc.pathLength } : undefined,
    extendedKeyUsage: eku ? { critical: eku.critical, usages: eku.usages.map(String) } : undefined,
    subjectKeyIdentifier: ski?.keyId,
    organizationIdentifier: parsed.subjectName.getField(ORGANIZATION_IDENTIFIER_OID)[0],
    ...(qc ? { qc } : {}),
    ...(policies ? { policies } : {}),
  };
}

/** Drop undefined members, so that `{ a: undefined }` and `{}` compare equal. */
const plain = (o: object): unknown => JSON.parse(JSON.stringify(o));

describe('certificate facts from DER (x509-read.ts) against @peculiar/x509', () => {
  const certificates = fixtureCertificates();

  it('reads the fixtures (more than 50 distinct certificates, among them qualified ones)', () => {
    expect(certificates.length).toBeGreaterThan(50);
    const qualified = certificates.filter((der) => {
      const qc = certificateFacts(new X509Certificate(der)).qc;
      return qc !== undefined && qc !== 'malformed' && qc.compliance;
    });
    expect(qualified.length).toBeGreaterThan(5);
  });

  it('gives the same keyUsage, basicConstraints, EKU, SKI, organizationIdentifier, qcStatements and policies', () => {
    for (const der of certificates) {
      const ours = certificateFacts(new X509Certificate(der));
      expect(plain(ours), new X509Certificate(der).subject).toEqual(plain(libraryFacts(der)));
    }
  });

  it('prints subject and issuer names as @peculiar/x509 did', () => {
    for (const der of certificates) {
      const lib = new x509.X509Certificate(Uint8Array.from(der));
      expect(nameToString(certificateSubject(der))).toBe(lib.subject);
    }
  });
});

function fixtureCrls(): Buffer[] {
  const out: Buffer[] = [];
  for (const file of all.filter((f) => f.endsWith('.xml')))
    for (const m of readFileSync(file, 'utf8').matchAll(/<(?:\w+:)?EncapsulatedCRLValue[^>]*>([^<]+)</g))
      out.push(b64(m[1]!));
  const pem = readFileSync(sharedTestPki().caCrl, 'latin1');
  out.push(b64(pem.replace(/-----[^-]+-----/g, '')));
  return out;
}

describe('CRL fields from DER against @peculiar/x509', () => {
  it('issuer, thisUpdate, nextUpdate and every revoked serial and date are the same', () => {
    const crls = fixtureCrls();
    expect(crls.length).toBeGreaterThan(2);
    let entries = 0;
    for (const der of crls) {
      const ours = parseCrlDer(der);
      const lib = new x509.X509Crl(Uint8Array.from(der));
      expect(ours.issuer).toBe(lib.issuer);
      expect(ours.thisUpdate).toEqual(lib.thisUpdate);
      expect(ours.nextUpdate).toEqual(lib.nextUpdate);
      expect(ours.revoked.size).toBe(lib.entries.length);
      for (const e of lib.entries)
        expect(ours.revoked.get(e.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''))).toEqual(
          e.revocationDate,
        );
      entries += lib.entries.length;
    }
    expect(entries).toBeGreaterThan(0);
  });
});

/** TimeStampTokens: .tst files, TimeStampResp .tsr files, and XAdES EncapsulatedTimeStamp values. */
function fixtureTokens(): Buffer[] {
  const out: Buffer[] = [];
  for (const file of all) {
    if (file.endsWith('.tst')) out.push(readFileSync(file));
    else if (file.endsWith('.tsr')) {
      // Some .tsr fixtures hold the bare token rather than the TimeStampResp.
      const bytes = readFileSync(file);
      let token: Buffer = bytes;
      try {
        const resp = AsnConvert.parse(bytes, TimeStampResp).timeStampToken;
        if (resp) token = Buffer.from(AsnConvert.serialize(resp));
      } catch {
        token = bytes;
      }
      out.push(token);
    } else if (file.endsWith('.xml'))
      for (const m of readFileSync(file, 'utf8').matchAll(/<(?:\w+:)?EncapsulatedTimeStamp[^>]*>([^<]+)</g))
        out.push(b64(m[1]!));
  }
  return out;
}

/** The TSTInfo inside a token, by the project's CMS reader (not what is under test here). */
function eContentOf(token: Buffer): Buffer {
  const content = readSignedData(token).eContent;
  if (!content) throw new Error('no eContent');
  return content;
}

describe('TSTInfo from DER (tst-info.ts) against @peculiar/asn1-tsp', () => {
  it('reads every timestamp token of the fixtures as the library does', () => {
    const tokens = fixtureTokens();
    expect(tokens.length).toBeGreaterThan(8);
    for (const token of tokens) {
      const der = eContentOf(token);
      const ours = readTstInfo(der);
      const lib = AsnConvert.parse(der, TSTInfo);
      expect(ours.version).toBe(lib.version);
      expect(ours.policy).toBe(lib.policy);
      expect(ours.messageImprint.hashAlgorithm).toBe(lib.messageImprint.hashAlgorithm.algorithm);
      expect(ours.messageImprint.hashedMessage).toEqual(Buffer.from(lib.messageImprint.hashedMessage.buffer));
      expect(ours.serialNumber).toEqual(Buffer.from(lib.serialNumber));
      expect(ours.genTime).toEqual(lib.genTime);
      expect(ours.ordering).toBe(lib.ordering);
      expect(ours.nonce).toEqual(lib.nonce ? Buffer.from(lib.nonce) : undefined);
      expect(plain(ours.accuracy ?? {})).toEqual(plain({ ...lib.accuracy }));
      if (lib.tsa?.directoryName)
        expect(ours.tsa?.directoryName).toEqual(Buffer.from(AsnConvert.serialize(lib.tsa.directoryName)));
      else expect(ours.tsa?.directoryName).toBeUndefined();
      expect(ours.tsa?.dNSName).toBe(lib.tsa?.dNSName);
      expect(ours.tsa?.uniformResourceIdentifier).toBe(lib.tsa?.uniformResourceIdentifier);
    }
  });
});

/** A reader may refuse hostile input only with one of the project's errors, never crash or hang. */
function refusesCleanly(read: () => unknown): void {
  try {
    read();
  } catch (e) {
    expect(isQerdsError(e), String(e)).toBe(true);
  }
}

describe('DER readers on hostile input', () => {
  const cert = new X509Certificate(readFileSync(sharedTestPki().ap('c2').sealCert)).raw;
  const tstInfo = eContentOf(fixtureTokens()[0]!);

  it('every truncation of a certificate and of a TSTInfo is refused with a project error', () => {
    for (let n = 0; n < cert.length; n += 7) {
      const cut = cert.subarray(0, n);
      expect(() => certificateFacts({ raw: cut, fingerprint256: `cut-${n}` } as X509Certificate)).toThrow();
      refusesCleanly(() => certificateFacts({ raw: cut, fingerprint256: `cut2-${n}` } as X509Certificate));
    }
    for (let n = 0; n < tstInfo.length; n++) {
      expect(() => readTstInfo(tstInfo.subarray(0, n))).toThrow();
      refusesCleanly(() => readTstInfo(tstInfo.subarray(0, n)));
    }
  });

  it('over-long and oversized lengths are refused before anything is allocated', () => {
    for (const header of [
      [0x30, 0x84, 0xff, 0xff, 0xff, 0xff], // 4 GiB, past the buffer
      [0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00], // 5 length octets
      [0x30, 0x80], // indefinite: BER, not DER
      [0x30], // no length at all
      [0x1f, 0x01, 0x00], // high tag number
    ]) {
      const der = Buffer.concat([Buffer.from(header), Buffer.alloc(8)]);
      expect(() => readTstInfo(der)).toThrow();
      refusesCleanly(() => readTstInfo(der));
      refusesCleanly(() => readTbsCertList({ tag: 0x30, bytes: der, content: der }));
    }
  });

  it('deep nesting (100,000 SEQUENCEs) is refused without recursion', () => {
    let der = Buffer.alloc(0);
    // Built from the inside out with 4-octet lengths, so the depth costs no quadratic copy: one header per level.
    const headers: Buffer[] = [];
    let length = 0;
    for (let i = 0; i < 100_000; i++) {
      const h = Buffer.from([0x30, 0x84, 0, 0, 0, 0]);
      h.writeUInt32BE(length, 2);
      headers.push(h);
      length += 6;
    }
    der = Buffer.concat(headers.reverse());
    refusesCleanly(() => readTstInfo(der));
    expect(() => readTstInfo(der)).toThrow();
    refusesCleanly(() => nameToString({ tag: 0x30, bytes: der, content: der.subarray(6) }));
  });

  it('a byte changed anywhere in a TSTInfo either reads or is refused with a project error', () => {
    for (let i = 0; i < tstInfo.length; i++)
      for (const value of [0x00, 0x80, 0xff]) {
        const mutated = Buffer.from(tstInfo);
        mutated[i] = value;
        refusesCleanly(() => readTstInfo(mutated));
      }
  });
});
