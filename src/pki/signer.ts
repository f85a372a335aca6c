import { sign, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { derTlv, derUnsignedInteger } from './der.js';
import type { Signer, SigningIdentity } from './types.js';

/** A {@link Signer} over a key held in this process (node:crypto): the AP's own e-seal, a PEM identity. */
export function softwareSigner(identity: SigningIdentity): Signer {
  return {
    certificate: identity.certificate,
    chain: identity.chain,
    keyType: signerKeyType(identity.certificate),
    keyStore: 'software',
    sign: async (data, { digest, dsaEncoding }) =>
      sign(digest, data, { key: identity.privateKey, dsaEncoding }),
  };
}

/** RSA or EC, from the certificate's public key; other key types (Ed25519, DSA) have no seal profile here. */
export function signerKeyType(certificate: X509Certificate): 'rsa' | 'ec' {
  const type = certificate.publicKey.asymmetricKeyType;
  if (type === 'rsa' || type === 'ec') return type;
  throw new QerdsError('PKI_KEY_UNSUPPORTED', `signing keys must be RSA or EC, not ${type ?? 'unknown'}`);
}

/** A SigningIdentity (key in this process) or already a Signer: the Signer to sign with. */
export function asSigner(identity: SigningIdentity | Signer): Signer {
  return 'sign' in identity ? identity : softwareSigner(identity);
}

/**
 * ECDSA r || s (IEEE P1363, what PKCS#11 CKM_ECDSA returns and XMLDSig wants) as the DER
 * `SEQUENCE { r INTEGER, s INTEGER }` that CMS (RFC 5753 §7.2) and X.509 want.
 */
export function ecdsaP1363ToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new QerdsError('PKI_DER_MALFORMED', `an ECDSA r || s value has an even length, not ${raw.length}`);
  const half = raw.length / 2;
  const int = (b: Buffer) => derUnsignedInteger(BigInt(`0x${b.toString('hex')}`));
  return derTlv(0x30, int(raw.subarray(0, half)), int(raw.subarray(half)));
}
