import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { QerdsError } from '../core/errors.js';
import { CMS_OID as OID } from '../crypto/index.js';
import { derChildren, derOid, readDerElement, type DerElement } from '../pki/index.js';
import { certificateFrom } from '../pki/parse-cache.js';

/**
 * The parts of a TimeStampToken (a CMS ContentInfo with SignedData over a TSTInfo, RFC 3161 §2.4.2) that
 * verification needs. Signed bytes are kept exactly as received, never re-encoded:
 *
 *   SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE { eContentType,
 *                  eContent [0] EXPLICIT OCTET STRING }, certificates [0] IMPLICIT OPTIONAL,
 *                  crls [1] IMPLICIT OPTIONAL, signerInfos SET OF SignerInfo }
 *   SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
 *                  signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 */
export interface ParsedToken {
  readonly tstInfo: TSTInfo;
  /** eContent: the DER TSTInfo the messageDigest attribute covers. */
  readonly tstInfoDer: Buffer;
  readonly certificates: readonly X509Certificate[];
  readonly signer: {
    /** issuerAndSerialNumber: issuer Name DER and serialNumber INTEGER element; or a subjectKeyIdentifier. */
    readonly sid: { readonly issuer: Buffer; readonly serial: Buffer } | { readonly keyId: Buffer };
    readonly digestAlgorithm: string;
    readonly signatureAlgorithm: string;
    readonly signature: Buffer;
    /** The signed attributes re-tagged as the SET OF that was signed (RFC 5652 §5.4). */
    readonly signedAttrsDer: Buffer;
    /** Attribute OID → its values' DER; a repeated attribute type is refused while parsing. */
    readonly attributes: ReadonlyMap<string, readonly Buffer[]>;
  };
}

function fail(message: string, cause?: unknown): QerdsError {
  return new QerdsError('TSA_TOKEN_MALFORMED', `malformed timestamp token: ${message}`, { cause });
}

function expect(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el || el.tag !== tag) throw fail(`expected ${what}`);
  return el;
}

/** Parse a DER TimeStampToken. Throws `TSA_TOKEN_MALFORMED`. */
export function parseTimestampToken(der: Buffer): ParsedToken {
  try {
    const contentInfo = readDerElement(der);
    // Trailing bytes after the token would be unsigned data riding along: refuse them.
    if (contentInfo.bytes.length !== der.length) throw fail('trailing bytes after the ContentInfo');
    const [type, explicit] = derChildren(expect(contentInfo, 0x30, 'ContentInfo'));
    if (derOid(expect(type, 0x06, 'contentType')) !== OID.signedData) throw fail('contentType is not signedData');
    const [signedData] = derChildren(expect(explicit, 0xa0, '[0] content'));
    const sd = derChildren(expect(signedData, 0x30, 'SignedData'));
    const encap = derChildren(expect(sd[2], 0x30, 'encapContentInfo'));
    if (derOid(expect(encap[0], 0x06, 'eContentType')) !== OID.tstInfo) throw fail('eContentType is not id-ct-TSTInfo');
    const [octets] = derChildren(expect(encap[1], 0xa0, 'eContent'));
    const tstInfoDer = Buffer.from(expect(octets, 0x04, 'eContent OCTET STRING').content);

    const certificates: X509Certificate[] = [];
    let signerInfos: DerElement | undefined;
    for (const el of sd.slice(3)) {
      if (el.tag === 0xa0) {
        for (const c of derChildren(el)) if (c.tag === 0x30) certificates.push(certificateFrom(c.bytes));
      } else if (el.tag === 0x31) signerInfos = el;
    }
    const infos = derChildren(expect(signerInfos, 0x31, 'signerInfos'));
    // RFC 3161 §2.4.2: exactly one signer, the TSA.
    if (infos.length !== 1) throw fail(`${infos.length} SignerInfos, expected exactly one`);
    const si = derChildren(expect(infos[0], 0x30, 'SignerInfo'));
    const sidEl = si[1];
    let sid: ParsedToken['signer']['sid'];
    if (sidEl?.tag === 0x30) {
      const [issuer, serial] = derChildren(sidEl);
      sid = { issuer: Buffer.from(expect(issuer, 0x30, 'issuer').bytes), serial: Buffer.from(expect(serial, 0x02, 'serial').bytes) };
    } else if (sidEl?.tag === 0x80) {
      sid = { keyId: Buffer.from(sidEl.content) };
    } else throw fail('unknown SignerIdentifier');
    const digestAlgorithm = derOid(expect(derChildren(expect(si[2], 0x30, 'digestAlgorithm'))[0], 0x06, 'OID'));
    const attrsEl = expect(si[3], 0xa0, 'signedAttrs (required for TSTInfo content)');
    const signatureAlgorithm = derOid(expect(derChildren(expect(si[4], 0x30, 'signatureAlgorithm'))[0], 0x06, 'OID'));
    const signature = Buffer.from(expect(si[5], 0x04, 'signature').content);

    const attributes = new Map<string, Buffer[]>();
    for (const attr of derChildren(attrsEl)) {
      const [oidEl, values] = derChildren(expect(attr, 0x30, 'Attribute'));
      const oid = derOid(expect(oidEl, 0x06, 'attrType'));
      // RFC 5652 §5.3: a signed attribute type appears once; two values would make "which one" ambiguous.
      if (attributes.has(oid)) throw fail(`attribute ${oid} appears twice`);
      attributes.set(oid, derChildren(expect(values, 0x31, 'attrValues')).map((v) => Buffer.from(v.bytes)));
    }
    const signedAttrsDer = Buffer.concat([Buffer.from([0x31]), attrsEl.bytes.subarray(1)]);

    const tstInfo = AsnConvert.parse(tstInfoDer, TSTInfo);
    return {
      tstInfo,
      tstInfoDer,
      certificates,
      signer: { sid, digestAlgorithm, signatureAlgorithm, signature, signedAttrsDer, attributes },
    };
  } catch (cause) {
    if (cause instanceof QerdsError && cause.code === 'TSA_TOKEN_MALFORMED') throw cause;
    throw fail((cause as Error).message, cause);
  }
}
