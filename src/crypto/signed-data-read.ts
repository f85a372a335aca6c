import { type X509Certificate } from 'node:crypto';
import { derTlv } from '../pki/index.js';
import { certificateFrom } from '../pki/parse-cache.js';
import {
  malformed,
  octetStringSegments,
  readTlv,
  tlvBytes,
  tlvChildren,
  tlvContent,
  tlvOid,
  type Tlv,
} from './ber.js';
import { OID } from '../pki/oids.js';

/**
 * A CMS SignedData (RFC 5652 §5) as another product wrote it: DER, or BER with indefinite lengths and
 * constructed OCTET STRINGs (`openssl cms -sign -stream`, Java's streaming generators). Nothing is
 * re-encoded except where RFC 5652 says what was signed (§5.4: the DER SET OF signed attributes), so a
 * signature is checked over the octets received. Used by RFC 3161 tokens and CAdES.
 *
 *   ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 *   SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE { eContentType,
 *                  eContent [0] EXPLICIT OCTET STRING OPTIONAL }, certificates [0] IMPLICIT OPTIONAL,
 *                  crls [1] IMPLICIT OPTIONAL, signerInfos SET OF SignerInfo }
 *   SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
 *                  signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 */
export interface ReadSignedData {
  readonly eContentType: string;
  /** The encapsulated content (segments of a constructed OCTET STRING joined); undefined when detached. */
  readonly eContent?: Buffer;
  /** Whether any part was BER (indefinite length or constructed string): shown to users, never a failure. */
  readonly ber: boolean;
  readonly certificates: readonly X509Certificate[];
  /** The CertificateList elements of `crls` (RevocationInfoChoice `other` forms, such as OCSP, are skipped). */
  readonly crls: readonly Buffer[];
  readonly signerInfos: readonly ReadSignerInfo[];
}

export type SignerId = { readonly issuer: Buffer; readonly serial: Buffer } | { readonly keyId: Buffer };

export interface ReadSignerInfo {
  readonly sid: SignerId;
  readonly digestAlgorithm: string;
  /** The SignedAttributes as the DER SET OF that was signed (RFC 5652 §5.4), or undefined without any. */
  readonly signedAttrsDer?: Buffer;
  /** Attribute OID → its values' encodings, in order. A repeated attribute type is refused. */
  readonly signedAttrs: ReadonlyMap<string, readonly Buffer[]>;
  readonly signatureAlgorithm: string;
  /** The AlgorithmIdentifier's parameters element (RSASSA-PSS-params), when present. */
  readonly signatureParameters?: Buffer;
  readonly signature: Buffer;
  readonly unsignedAttrs: ReadonlyMap<string, readonly Buffer[]>;
}

function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  // 0x20 is the constructed bit: BER may encode a string either way; callers that care look at `constructed`.
  if (!tlv || (tlv.tag | 0x20) !== (tag | 0x20)) throw malformed(`expected ${what}`);
  return tlv;
}

/** Read a ContentInfo holding SignedData. Throws CRYPTO_MALFORMED. */
export function readSignedData(der: Buffer): ReadSignedData {
  const ci = readTlv(der, 0);
  // Trailing bytes would be unsigned data riding along with the signature: refuse them.
  if (ci.end !== der.length) throw malformed('trailing bytes after the ContentInfo');
  let ber = hasIndefinite(der, ci);
  const [type, explicit] = tlvChildren(der, expectTag(ci, 0x30, 'ContentInfo'));
  if (tlvOid(der, expectTag(type, 0x06, 'contentType')) !== OID.signedData)
    throw malformed('contentType is not signedData');
  const [sdTlv] = tlvChildren(der, expectTag(explicit, 0xa0, '[0] content'));
  const sd = tlvChildren(der, expectTag(sdTlv, 0x30, 'SignedData'));
  const encap = tlvChildren(der, expectTag(sd[2], 0x30, 'encapContentInfo'));
  const eContentType = tlvOid(der, expectTag(encap[0], 0x06, 'eContentType'));
  let eContent: Buffer | undefined;
  if (encap[1]) {
    const [octets] = tlvChildren(der, expectTag(encap[1], 0xa0, 'eContent'));
    const os = expectTag(octets, 0x04, 'eContent OCTET STRING');
    if (os.constructed) ber = true;
    const segments = octetStringSegments(der, os);
    eContent = segments.length === 1 ? Buffer.from(segments[0]!) : Buffer.concat(segments);
  }
  const certificates: X509Certificate[] = [];
  const crls: Buffer[] = [];
  let infos: Tlv | undefined;
  for (const el of sd.slice(3)) {
    if (el.tag === 0xa0) {
      // CertificateChoices: only the plain Certificate (SEQUENCE); attribute certificates are not signers.
      for (const c of tlvChildren(der, el))
        if (c.tag === 0x30) certificates.push(certificateFrom(tlvBytes(der, c)));
    } else if (el.tag === 0xa1) {
      for (const c of tlvChildren(der, el)) if (c.tag === 0x30) crls.push(Buffer.from(tlvBytes(der, c)));
    } else if (el.tag === 0x31) infos = el;
  }
  const signerInfos = tlvChildren(der, expectTag(infos, 0x31, 'signerInfos')).map((si) =>
    readSignerInfo(der, si),
  );
  return { eContentType, ...(eContent ? { eContent } : {}), ber, certificates, crls, signerInfos };
}

function hasIndefinite(buf: Buffer, tlv: Tlv, depth = 0): boolean {
  if (buf[tlv.start + 1] === 0x80) return true;
  // The outer structure is enough: streaming writers make the SignedData and its parts indefinite.
  if (!tlv.constructed || depth > 4) return false;
  return tlvChildren(buf, tlv).some((c) => hasIndefinite(buf, c, depth + 1));
}

/**
 * One SignerInfo on its own (DER or BER): the value of a countersignature attribute (RFC 5652 §11.4) is a
 * SignerInfo whose signature covers the parent's signature value. Throws CRYPTO_MALFORMED.
 */
export function readSignerInfoAlone(der: Buffer): ReadSignerInfo {
  const tlv = readTlv(der, 0);
  if (tlv.end !== der.length) throw malformed('trailing bytes after the SignerInfo');
  return readSignerInfo(der, tlv);
}

function readSignerInfo(der: Buffer, tlv: Tlv): ReadSignerInfo {
  const si = tlvChildren(der, expectTag(tlv, 0x30, 'SignerInfo'));
  const sidEl = si[1];
  let sid: SignerId;
  if (sidEl?.tag === 0x30) {
    const [issuer, serial] = tlvChildren(der, sidEl);
    sid = {
      issuer: Buffer.from(tlvBytes(der, expectTag(issuer, 0x30, 'issuer'))),
      serial: Buffer.from(tlvBytes(der, expectTag(serial, 0x02, 'serial'))),
    };
  } else if (sidEl?.tag === 0x80) {
    sid = { keyId: Buffer.from(tlvContent(der, sidEl)) };
  } else throw malformed('unknown SignerIdentifier');
  const digestAlgorithm = tlvOid(
    der,
    expectTag(tlvChildren(der, expectTag(si[2], 0x30, 'digestAlgorithm'))[0], 0x06, 'OID'),
  );
  let i = 3;
  let signedAttrsDer: Buffer | undefined;
  let signedAttrs = new Map<string, Buffer[]>();
  if (si[i]?.tag === 0xa0) {
    const attrs = si[i]!;
    signedAttrs = attributes(der, attrs);
    // RFC 5652 §5.4: the signature is over the DER SET OF; a definite encoding is that with the tag swapped.
    signedAttrsDer =
      der[attrs.start + 1] === 0x80
        ? derTlv(0x31, ...tlvChildren(der, attrs).map((a) => tlvBytes(der, a)))
        : Buffer.concat([Buffer.from([0x31]), tlvBytes(der, attrs).subarray(1)]);
    i++;
  }
  const algId = tlvChildren(der, expectTag(si[i], 0x30, 'signatureAlgorithm'));
  const signatureAlgorithm = tlvOid(der, expectTag(algId[0], 0x06, 'OID'));
  const params = algId[1] && algId[1].tag !== 0x05 ? Buffer.from(tlvBytes(der, algId[1])) : undefined;
  const sigEl = expectTag(si[i + 1], 0x04, 'signature');
  const signature = Buffer.concat(octetStringSegments(der, sigEl));
  const unsignedEl = si[i + 2]?.tag === 0xa1 ? si[i + 2] : undefined;
  return {
    sid,
    digestAlgorithm,
    ...(signedAttrsDer ? { signedAttrsDer } : {}),
    signedAttrs,
    signatureAlgorithm,
    ...(params ? { signatureParameters: params } : {}),
    signature,
    unsignedAttrs: unsignedEl ? attributes(der, unsignedEl) : new Map(),
  };
}

function attributes(der: Buffer, set: Tlv): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  for (const attr of tlvChildren(der, set)) {
    const [oidEl, values] = tlvChildren(der, expectTag(attr, 0x30, 'Attribute'));
    const oid = tlvOid(der, expectTag(oidEl, 0x06, 'attrType'));
    // RFC 5652 §5.3: an attribute type appears once; two would make "which one" ambiguous.
    if (out.has(oid)) throw malformed(`attribute ${oid} appears twice`);
    out.set(
      oid,
      tlvChildren(der, expectTag(values, 0x31, 'attrValues')).map((v) => Buffer.from(tlvBytes(der, v))),
    );
  }
  return out;
}
