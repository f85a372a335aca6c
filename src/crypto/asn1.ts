import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/*
 * ASN.1 types that @peculiar/asn1-cms 2.x lacks. The schema is registered by calling asn1-schema's
 * (legacy) decorators directly, since this project compiles with standard decorators.
 */

/**
 * RFC 5084 §3.2:
 * ```asn1
 * GCMParameters ::= SEQUENCE {
 *   aes-nonce        OCTET STRING, -- recommended size is 12 octets
 *   aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
 * AES-GCM-ICVlen ::= INTEGER (12 | 13 | 14 | 15 | 16)
 * ```
 */
export class GcmParameters {
  nonce = new OctetString();
  icvLength = 12;
  constructor(params: Partial<GcmParameters> = {}) {
    Object.assign(this, params);
  }
}
AsnType({ type: AsnTypeTypes.Sequence })(GcmParameters);
AsnProp({ type: OctetString })(GcmParameters.prototype, 'nonce');
AsnProp({ type: AsnPropTypes.Integer, defaultValue: 12 })(GcmParameters.prototype, 'icvLength');

/**
 * RFC 4055 §4.1 (RFC 8017 A.2.1), EXPLICIT tags:
 * ```asn1
 * RSAES-OAEP-params ::= SEQUENCE {
 *   hashFunc    [0] AlgorithmIdentifier DEFAULT sha1Identifier,
 *   maskGenFunc [1] AlgorithmIdentifier DEFAULT mgf1SHA1Identifier,
 *   pSourceFunc [2] AlgorithmIdentifier DEFAULT pSpecifiedEmptyIdentifier }
 * ```
 * Absent fields mean the SHA-1 defaults; callers read `undefined` as such.
 */
export class RsaesOaepParams {
  hashFunc?: AlgorithmIdentifier;
  maskGenFunc?: AlgorithmIdentifier;
  pSourceFunc?: AlgorithmIdentifier;
  constructor(params: Partial<RsaesOaepParams> = {}) {
    Object.assign(this, params);
  }
}
AsnType({ type: AsnTypeTypes.Sequence })(RsaesOaepParams);
AsnProp({ type: AlgorithmIdentifier, context: 0, optional: true })(RsaesOaepParams.prototype, 'hashFunc');
AsnProp({ type: AlgorithmIdentifier, context: 1, optional: true })(RsaesOaepParams.prototype, 'maskGenFunc');
AsnProp({ type: AlgorithmIdentifier, context: 2, optional: true })(RsaesOaepParams.prototype, 'pSourceFunc');

/**
 * RFC 5753 §7.2 — the KDF input of ECDH key agreement in CMS (also used by RFC 8418 as HKDF `info`):
 * ```asn1
 * ECC-CMS-SharedInfo ::= SEQUENCE {
 *   keyInfo         AlgorithmIdentifier,
 *   entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,
 *   suppPubInfo [2] EXPLICIT OCTET STRING }
 * ```
 * `keyInfo` is the key-wrap algorithm, `entityUInfo` the ukm, `suppPubInfo` the KEK length in bits
 * as a 32-bit big-endian number.
 */
export class EccCmsSharedInfo {
  keyInfo = new AlgorithmIdentifier();
  entityUInfo?: OctetString;
  suppPubInfo = new OctetString();
  constructor(params: Partial<EccCmsSharedInfo> = {}) {
    Object.assign(this, params);
  }
}
AsnType({ type: AsnTypeTypes.Sequence })(EccCmsSharedInfo);
AsnProp({ type: AlgorithmIdentifier })(EccCmsSharedInfo.prototype, 'keyInfo');
AsnProp({ type: OctetString, context: 0, optional: true })(EccCmsSharedInfo.prototype, 'entityUInfo');
AsnProp({ type: OctetString, context: 2 })(EccCmsSharedInfo.prototype, 'suppPubInfo');

/** DER of an asn1-schema object as a Buffer. */
export function toDer(value: unknown): Buffer {
  return Buffer.from(AsnConvert.serialize(value));
}

/** An AlgorithmIdentifier with absent parameters. */
export function algorithm(oid: string, parameters?: ArrayBuffer): AlgorithmIdentifier {
  return new AlgorithmIdentifier(
    parameters === undefined ? { algorithm: oid } : { algorithm: oid, parameters },
  );
}

/** A Buffer as the ArrayBuffer asn1-schema wants (a copy, never a view of a larger pool). */
export function arrayBuffer(buf: Buffer): ArrayBuffer {
  return new Uint8Array(buf).buffer;
}
