import { constants, verify, type KeyObject } from 'node:crypto';
import { digestNameOfOid, verifyCmsSignature, type DigestName } from '../pki/index.js';
import { malformed, readTlv, tlvChildren, tlvContent, tlvOid } from './ber.js';
import { OID } from '../pki/oids.js';

/** The outcome: verified, refused, or not judged because the algorithm or its parameters are not implemented. */
export type SignatureCheck = { readonly ok: boolean } | { readonly unsupported: string };

/**
 * Verify a SignerInfo signature over `data` (the DER signed attributes, or the content without them):
 * PKCS#1 v1.5, ECDSA and EdDSA as pki verifies them, and RSASSA-PSS with its parameters read from the
 * AlgorithmIdentifier. `digest` is the SignerInfo's digestAlgorithm, used by bare key algorithm OIDs.
 */
export function verifySignerSignature(
  algorithm: string,
  parameters: Buffer | undefined,
  digest: DigestName,
  data: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): SignatureCheck {
  if (algorithm === OID.rsassaPss) {
    let p: PssParameters;
    try {
      p = readPssParameters(parameters);
    } catch (e) {
      return { unsupported: `RSASSA-PSS parameters: ${(e as Error).message}` };
    }
    // SHA-1 is refused: a collision would let one signature vouch for two signed-attribute sets.
    if (!p.hash) return { unsupported: `RSASSA-PSS with hash ${p.hashOid} (only SHA-2)` };
    // Node's RSA-PSS verify uses the message hash for MGF1 too; another MGF1 hash is not implemented here.
    if (p.mgfHash !== p.hash)
      return { unsupported: `RSASSA-PSS with MGF1 hash ${p.mgfHashOid} differing from hash ${p.hashOid}` };
    if (p.trailerField !== 1) return { unsupported: `RSASSA-PSS trailerField ${p.trailerField}` };
    try {
      return {
        ok: verify(
          p.hash,
          data,
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength },
          signature,
        ),
      };
    } catch {
      return { ok: false };
    }
  }
  const r = verifyCmsSignature(algorithm, digest, data, signature, publicKey);
  return r === 'unsupported' ? { unsupported: `signature algorithm ${algorithm}` } : { ok: r };
}

interface PssParameters {
  readonly hashOid: string;
  readonly hash?: DigestName;
  readonly mgfHashOid: string;
  readonly mgfHash?: DigestName;
  readonly saltLength: number;
  readonly trailerField: number;
}

/**
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1,
 * saltLength [2] INTEGER DEFAULT 20, trailerField [3] INTEGER DEFAULT 1 } (RFC 4055 §3.1).
 */
function readPssParameters(der: Buffer | undefined): PssParameters {
  let hashOid: string = OID.sha1;
  let mgfHashOid: string = OID.sha1;
  let saltLength = 20;
  let trailerField = 1;
  if (der) {
    const seq = readTlv(der, 0);
    if (seq.tag !== 0x30) throw malformed('RSASSA-PSS-params is not a SEQUENCE');
    for (const field of tlvChildren(der, seq)) {
      const [inner] = tlvChildren(der, field);
      if (!inner) throw malformed('empty RSASSA-PSS-params field');
      if (field.tag === 0xa0) hashOid = tlvOid(der, tlvChildren(der, inner)[0]!);
      else if (field.tag === 0xa1) {
        const [mgf, mgfParams] = tlvChildren(der, inner);
        if (!mgf || tlvOid(der, mgf) !== OID.mgf1) throw malformed('mask generation is not MGF1');
        mgfHashOid = mgfParams ? tlvOid(der, tlvChildren(der, mgfParams)[0]!) : OID.sha1;
      } else if (field.tag === 0xa2) saltLength = uint(tlvContent(der, inner));
      else if (field.tag === 0xa3) trailerField = uint(tlvContent(der, inner));
    }
  }
  const hash = digestNameOfOid(hashOid);
  const mgfHash = digestNameOfOid(mgfHashOid);
  return {
    hashOid,
    ...(hash ? { hash } : {}),
    mgfHashOid,
    ...(mgfHash ? { mgfHash } : {}),
    saltLength,
    trailerField,
  };
}

function uint(bytes: Buffer): number {
  if (bytes.length === 0 || bytes.length > 4) throw malformed('integer out of range');
  return bytes.reduce((n, b) => n * 256 + b, 0);
}
