import { createCipheriv, randomBytes, type X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OctetString } from '@peculiar/asn1-schema';
import type { RecipientInfo } from '@peculiar/asn1-cms';
import { QerdsError } from '../core/errors.js';
import { derAttribute, derHeader, derObjectIdentifier, derSetOf, derTlv } from '../pki/index.js';
import { createAlgorithmRegistry } from './algorithm-registry.js';
import { algorithm, arrayBuffer, GcmParameters, toDer } from './asn1.js';
import { readTlv } from './ber.js';
import { GCM_NONCE_LENGTH, GCM_TAG_LENGTH, gcmCipher } from './content-encryption.js';
import { keyAgreeRecipientInfo } from './key-agreement.js';
import { keyTransRecipientInfo } from './key-transport.js';
import { OID } from './oids.js';
import { recipientCertId, recipientKeyKind } from './recipient-cert.js';
import type { CmsAttribute, EncryptCmsOptions } from './types.js';

/** A caller's unprotected attribute, each value checked to be one DER element. */
function attributeDer(attribute: CmsAttribute): Buffer {
  for (const value of attribute.values) {
    if (value.length === 0 || readTlv(value, 0).end !== value.length) {
      throw new QerdsError('CRYPTO_MALFORMED', `attribute ${attribute.type}: each value must be one DER element`);
    }
  }
  return derAttribute(attribute.type, ...attribute.values);
}

/**
 * Encrypt `plaintext` for every certificate in `recipients` as CMS AuthEnvelopedData (RFC 5083) with
 * AES-256-GCM (RFC 5084), and return the DER ContentInfo. One fresh content-encryption key and nonce per
 * call; per recipient: RSA → KeyTransRecipientInfo (RSAES-OAEP-SHA256), EC P-256 → KeyAgreeRecipientInfo
 * (ECDH, X9.63-SHA256 KDF, AES-256 key wrap), X25519 → KeyAgreeRecipientInfo (RFC 8418, HKDF-SHA256).
 *
 * ```asn1
 * ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY DEFINED BY contentType }
 * AuthEnvelopedData ::= SEQUENCE {
 *   version CMSVersion,                                  -- 0
 *   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
 *   recipientInfos RecipientInfos,
 *   authEncryptedContentInfo EncryptedContentInfo,
 *   authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
 *   mac MessageAuthenticationCode,
 *   unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
 * EncryptedContentInfo ::= SEQUENCE {
 *   contentType ContentType,
 *   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
 *   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
 * ```
 * The outer structure is written by hand around the ciphertext so a large payload is copied once;
 * the small parts are asn1-schema objects. A Readable is consumed chunk by chunk through the cipher.
 */
export async function encryptCms(
  plaintext: Buffer | Readable,
  recipients: readonly X509Certificate[],
  options: EncryptCmsOptions = {},
): Promise<Buffer> {
  if (recipients.length === 0) throw new QerdsError('CRYPTO_NO_RECIPIENTS', 'at least one recipient certificate is required');
  const registry = options.registry ?? createAlgorithmRegistry();
  registry.require(OID.aes256Gcm, 'content-encryption', 'produce');
  const cipherSpec = gcmCipher(OID.aes256Gcm);
  const cek = randomBytes(cipherSpec.keyLength);
  const nonce = randomBytes(GCM_NONCE_LENGTH);

  const recipientInfos: RecipientInfo[] = recipients.map((certificate) => {
    const id = recipientCertId(certificate);
    const keyOptions = { useSki: options.useSubjectKeyIdentifier ?? false, registry };
    return recipientKeyKind(certificate.publicKey) === 'rsa'
      ? keyTransRecipientInfo(certificate.publicKey, id, cek, keyOptions)
      : keyAgreeRecipientInfo(certificate.publicKey, id, cek, keyOptions);
  });

  const cipher = createCipheriv(cipherSpec.nodeName, cek, nonce, { authTagLength: GCM_TAG_LENGTH });
  const attributes = options.authenticatedAttributes ?? [];
  // RFC 5083 §2.2: the AAD is the DER of authAttrs with the SET OF tag, not the IMPLICIT [1] tag.
  const authAttrsSet = attributes.length > 0 ? derSetOf(attributes.map(attributeDer)) : undefined;
  if (authAttrsSet) cipher.setAAD(authAttrsSet);
  const chunks: Buffer[] = [];
  let ciphertextLength = 0;
  const push = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    chunks.push(chunk);
    ciphertextLength += chunk.length;
  };
  if (Buffer.isBuffer(plaintext)) push(cipher.update(plaintext));
  else for await (const chunk of plaintext) push(cipher.update(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)));
  push(cipher.final());
  const tag = cipher.getAuthTag();
  cek.fill(0);

  const gcmParams = new GcmParameters({ nonce: new OctetString(arrayBuffer(nonce)), icvLength: GCM_TAG_LENGTH });
  const ecHead = Buffer.concat([
    derObjectIdentifier(OID.data),
    toDer(algorithm(OID.aes256Gcm, arrayBuffer(toDer(gcmParams)))),
    derHeader(0x80, ciphertextLength),
  ]);
  const head = Buffer.concat([
    derTlv(0x02, Buffer.from([0])),
    derSetOf(recipientInfos.map((ri) => toDer(ri))),
    derHeader(0x30, ecHead.length + ciphertextLength),
    ecHead,
  ]);
  const tail = Buffer.concat([
    ...(authAttrsSet ? [Buffer.concat([Buffer.from([0xa1]), authAttrsSet.subarray(1)])] : []),
    derTlv(0x04, tag),
  ]);
  const aedLength = head.length + ciphertextLength + tail.length;
  const aedHeader = derHeader(0x30, aedLength);
  const explicitHeader = derHeader(0xa0, aedHeader.length + aedLength);
  const typeOid = derObjectIdentifier(OID.authEnvelopedData);
  const outerHeader = derHeader(0x30, typeOid.length + explicitHeader.length + aedHeader.length + aedLength);
  return Buffer.concat([outerHeader, typeOid, explicitHeader, aedHeader, head, ...chunks, tail]);
}
