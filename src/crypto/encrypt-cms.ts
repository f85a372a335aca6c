import { createCipheriv, randomBytes, type Cipher, type X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import { OctetString } from '@peculiar/asn1-schema';
import type { RecipientInfo } from '@peculiar/asn1-cms';
import { QerdsError } from '../core/errors.js';
import { derAttribute, derHeader, derObjectIdentifier, derSetOf, derTlv } from '../pki/index.js';
import { createAlgorithmRegistry } from './algorithm-registry.js';
import { algorithm, arrayBuffer, GcmParameters, toDer } from './asn1.js';
import { readTlv } from './ber.js';
import {
  CBC_IV_LENGTH,
  cbcCipher,
  GCM_NONCE_LENGTH,
  GCM_TAG_LENGTH,
  gcmCipher,
} from './content-encryption.js';
import { keyAgreeRecipientInfo } from './key-agreement.js';
import { keyTransRecipientInfo } from './key-transport.js';
import { OID } from '../pki/oids.js';
import { recipientCertId, recipientKeyKind } from './recipient-cert.js';
import type { AlgorithmRegistry, CmsAttribute, EncryptCmsOptions } from './types.js';

/** A caller's unprotected attribute, each value checked to be one DER element. */
function attributeDer(attribute: CmsAttribute): Buffer {
  for (const value of attribute.values) {
    if (value.length === 0 || readTlv(value, 0).end !== value.length) {
      throw new QerdsError(
        'CRYPTO_MALFORMED',
        `attribute ${attribute.type}: each value must be one DER element`,
      );
    }
  }
  return derAttribute(attribute.type, ...attribute.values);
}

/**
 * Encrypt `plaintext` for every certificate in `recipients` as CMS AuthEnvelopedData (RFC 5083) with
 * AES-256-GCM (RFC 5084), and return the DER ContentInfo. One fresh content-encryption key and nonce per
 * call; per recipient: RSA → KeyTransRecipientInfo (RSAES-OAEP-SHA256), EC P-256 → KeyAgreeRecipientInfo
 * (ECDH, X9.63-SHA256 KDF, AES-256 key wrap), X25519 → KeyAgreeRecipientInfo (RFC 8418, HKDF-SHA256).
 * With `contentEncryption: 'aes256-cbc'` (S/MIME mail clients only): EnvelopedData, see encryptEnveloped.
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
  if ((options.contentEncryption ?? 'aes256-gcm') === 'aes256-cbc') {
    if (recipients.length === 0)
      throw new QerdsError('CRYPTO_NO_RECIPIENTS', 'at least one recipient certificate is required');
    return encryptEnveloped(plaintext, recipients, options, options.registry ?? createAlgorithmRegistry());
  }
  const setup = prepareEncryption(recipients, options);
  const { chunks, length: ciphertextLength } = await encryptAll(setup.cipher, plaintext);
  const tag = setup.cipher.getAuthTag();
  setup.cek.fill(0);
  return Buffer.concat([setup.header(ciphertextLength), ...chunks, setup.trailer(tag)]);
}

/**
 * encryptCms as a stream, for payloads of any size: GCM ciphertext is as long as the plaintext, so with the
 * plaintext's `size` known the DER header (definite lengths) goes out first, then the ciphertext as the
 * plaintext is read, then the trailer with the tag. Memory stays flat. A plaintext that turns out longer or
 * shorter than `size` fails the stream (the output would not be valid DER).
 */
export function encryptCmsStream(
  plaintext: Readable,
  size: number,
  recipients: readonly X509Certificate[],
  options: EncryptCmsOptions = {},
): Readable {
  // AuthEnvelopedData only: the mail-only CBC form is small and built in memory by encryptCms.
  if (options.contentEncryption === 'aes256-cbc')
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      'encryptCmsStream produces AES-256-GCM AuthEnvelopedData only',
    );
  const setup = prepareEncryption(recipients, options);
  return Readable.from(
    (async function* () {
      yield setup.header(size);
      let seen = 0;
      try {
        for await (const chunk of plaintext) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
          seen += bytes.length;
          if (seen > size) break;
          yield setup.cipher.update(bytes);
        }
        if (seen !== size)
          throw new QerdsError(
            'CRYPTO_MALFORMED',
            `plaintext is ${seen > size ? 'longer' : 'shorter'} than the ${size} bytes announced`,
          );
        yield setup.cipher.final();
        yield setup.trailer(setup.cipher.getAuthTag());
      } finally {
        setup.cek.fill(0);
      }
    })(),
    { objectMode: false },
  );
}

/** A fresh key and nonce, the recipient infos, the cipher, and the DER around the ciphertext. */
function prepareEncryption(recipients: readonly X509Certificate[], options: EncryptCmsOptions) {
  if (recipients.length === 0)
    throw new QerdsError('CRYPTO_NO_RECIPIENTS', 'at least one recipient certificate is required');
  const registry = options.registry ?? createAlgorithmRegistry();
  registry.require(OID.aes256Gcm, 'content-encryption', 'produce');
  const cipherSpec = gcmCipher(OID.aes256Gcm);
  const cek = randomBytes(cipherSpec.keyLength);
  const nonce = randomBytes(GCM_NONCE_LENGTH);

  const recipientInfos = recipientInfosFor(recipients, cek, options, registry);

  const cipher = createCipheriv(cipherSpec.nodeName, cek, nonce, { authTagLength: GCM_TAG_LENGTH });
  const attributes = options.authenticatedAttributes ?? [];
  // RFC 5083 §2.2: the AAD is the DER of authAttrs with the SET OF tag, not the IMPLICIT [1] tag.
  const authAttrsSet = attributes.length > 0 ? derSetOf(attributes.map(attributeDer)) : undefined;
  if (authAttrsSet) cipher.setAAD(authAttrsSet);

  const gcmParams = new GcmParameters({
    nonce: new OctetString(arrayBuffer(nonce)),
    icvLength: GCM_TAG_LENGTH,
  });
  const ecHead = Buffer.concat([
    derObjectIdentifier(OID.data),
    toDer(algorithm(OID.aes256Gcm, arrayBuffer(toDer(gcmParams)))),
  ]);
  const recipientsDer = Buffer.concat([
    derTlv(0x02, Buffer.from([0])),
    derSetOf(recipientInfos.map((ri) => toDer(ri))),
  ]);
  /** The trailer's length does not depend on the tag's value: authAttrs and a 16-octet OCTET STRING. */
  const trailer = (tag: Buffer) =>
    Buffer.concat([
      ...(authAttrsSet ? [Buffer.concat([Buffer.from([0xa1]), authAttrsSet.subarray(1)])] : []),
      derTlv(0x04, tag),
    ]);
  const trailerLength = trailer(Buffer.alloc(GCM_TAG_LENGTH)).length;
  /** Everything before the ciphertext, for a ciphertext of `ciphertextLength` octets. */
  const header = (ciphertextLength: number) => {
    const encryptedContentHeader = derHeader(0x80, ciphertextLength);
    const head = Buffer.concat([
      recipientsDer,
      derHeader(0x30, ecHead.length + encryptedContentHeader.length + ciphertextLength),
      ecHead,
      encryptedContentHeader,
    ]);
    const aedLength = head.length + ciphertextLength + trailerLength;
    const aedHeader = derHeader(0x30, aedLength);
    const explicitHeader = derHeader(0xa0, aedHeader.length + aedLength);
    const typeOid = derObjectIdentifier(OID.authEnvelopedData);
    const outerHeader = derHeader(
      0x30,
      typeOid.length + explicitHeader.length + aedHeader.length + aedLength,
    );
    return Buffer.concat([outerHeader, typeOid, explicitHeader, aedHeader, head]);
  };
  return { cek, cipher, header, trailer };
}

/** Per recipient: RSA → KeyTransRecipientInfo, EC P-256 / X25519 → KeyAgreeRecipientInfo. */
function recipientInfosFor(
  recipients: readonly X509Certificate[],
  cek: Buffer,
  options: EncryptCmsOptions,
  registry: AlgorithmRegistry,
): RecipientInfo[] {
  return recipients.map((certificate) => {
    const id = recipientCertId(certificate);
    const keyOptions = { useSki: options.useSubjectKeyIdentifier ?? false, registry };
    return recipientKeyKind(certificate.publicKey) === 'rsa'
      ? keyTransRecipientInfo(certificate.publicKey, id, cek, {
          ...keyOptions,
          ...(options.rsaKeyTransport ? { keyTransport: options.rsaKeyTransport } : {}),
        })
      : keyAgreeRecipientInfo(certificate.publicKey, id, cek, keyOptions);
  });
}

/** The plaintext through the cipher, chunk by chunk, and final(). */
async function encryptAll(
  cipher: Cipher,
  plaintext: Buffer | Readable,
): Promise<{ chunks: Buffer[]; length: number }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const push = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    chunks.push(chunk);
    length += chunk.length;
  };
  if (Buffer.isBuffer(plaintext)) push(cipher.update(plaintext));
  else
    for await (const chunk of plaintext)
      push(cipher.update(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)));
  push(cipher.final());
  return { chunks, length };
}

/** ContentInfo { contentType, [0] EXPLICIT SEQUENCE { head, ciphertext, tail } }, written around the ciphertext. */
function contentInfo(
  contentType: string,
  head: Buffer,
  chunks: readonly Buffer[],
  ciphertextLength: number,
  tail: Buffer,
): Buffer {
  const innerLength = head.length + ciphertextLength + tail.length;
  const innerHeader = derHeader(0x30, innerLength);
  const explicitHeader = derHeader(0xa0, innerHeader.length + innerLength);
  const typeOid = derObjectIdentifier(contentType);
  const outerHeader = derHeader(
    0x30,
    typeOid.length + explicitHeader.length + innerHeader.length + innerLength,
  );
  return Buffer.concat([outerHeader, typeOid, explicitHeader, innerHeader, head, ...chunks, tail]);
}

/**
 * EnvelopedData (RFC 5652 §6.1) with AES-256-CBC (RFC 3565), the form S/MIME mail clients open
 * (smime-type=enveloped-data). No integrity of its own: only for content signed inside (sign, then encrypt),
 * and only when the registry allows it (createMailInteropRegistry).
 * ```asn1
 * EnvelopedData ::= SEQUENCE {
 *   version CMSVersion,               -- 0 when every RecipientInfo is version 0, else 2 (§6.1)
 *   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
 *   recipientInfos RecipientInfos,
 *   encryptedContentInfo EncryptedContentInfo,
 *   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
 * AES-IV ::= OCTET STRING (SIZE(16))   -- the parameters of id-aes256-CBC
 * ```
 */
async function encryptEnveloped(
  plaintext: Buffer | Readable,
  recipients: readonly X509Certificate[],
  options: EncryptCmsOptions,
  registry: AlgorithmRegistry,
): Promise<Buffer> {
  if ((options.authenticatedAttributes ?? []).length > 0) {
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      'authenticated attributes need AuthEnvelopedData (aes256-gcm), not AES-CBC',
    );
  }
  registry.require(OID.aes256Cbc, 'content-encryption', 'produce');
  const cipherSpec = cbcCipher(OID.aes256Cbc);
  const cek = randomBytes(cipherSpec.keyLength);
  const iv = randomBytes(CBC_IV_LENGTH);
  const recipientInfos = recipientInfosFor(recipients, cek, options, registry);
  const cipher = createCipheriv(cipherSpec.nodeName, cek, iv);
  const { chunks, length: ciphertextLength } = await encryptAll(cipher, plaintext);
  cek.fill(0);
  const allVersion0 = recipientInfos.every((ri) => ri.ktri !== undefined && ri.ktri.version === 0);
  const ecHead = Buffer.concat([
    derObjectIdentifier(OID.data),
    toDer(algorithm(OID.aes256Cbc, arrayBuffer(derTlv(0x04, iv)))),
    derHeader(0x80, ciphertextLength),
  ]);
  const head = Buffer.concat([
    derTlv(0x02, Buffer.from([allVersion0 ? 0 : 2])),
    derSetOf(recipientInfos.map((ri) => toDer(ri))),
    derHeader(0x30, ecHead.length + ciphertextLength),
    ecHead,
  ]);
  return contentInfo(OID.envelopedData, head, chunks, ciphertextLength, Buffer.alloc(0));
}
