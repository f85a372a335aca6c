import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  KeyAgreeRecipientInfo,
  OriginatorIdentifierOrKey,
  OriginatorPublicKey,
  RecipientEncryptedKey,
  RecipientEncryptedKeys,
  RecipientInfo,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { derObjectIdentifier, derTlv } from '../pki/index.js';
import { algorithm, arrayBuffer, EccCmsSharedInfo, toDer } from './asn1.js';
import { malformed, readTlv, tlvChildren, tlvContent } from './ber.js';
import { aesKeyUnwrap, aesKeyWrap, hkdf, x963Kdf } from './kdf.js';
import { OID } from '../pki/oids.js';
import { recipientKeyKind, type RecipientCertId, type RecipientKeyKind } from './recipient-cert.js';
import { identifiesCertificate, keyAgreeRecipientIdentifier } from './recipient-id.js';
import type { AlgorithmRegistry } from './types.js';

interface AgreementScheme {
  readonly kdf: 'x963' | 'hkdf';
  readonly hash: string;
}

/** Key-agreement algorithm OID → KDF (RFC 5753 §7.1.4, RFC 8418 §2.2). */
const SCHEMES: Readonly<Record<string, AgreementScheme>> = {
  [OID.dhSinglePassStdDhSha1Kdf]: { kdf: 'x963', hash: 'sha1' },
  [OID.dhSinglePassStdDhSha256Kdf]: { kdf: 'x963', hash: 'sha256' },
  [OID.dhSinglePassStdDhSha384Kdf]: { kdf: 'x963', hash: 'sha384' },
  [OID.dhSinglePassStdDhSha512Kdf]: { kdf: 'x963', hash: 'sha512' },
  [OID.dhSinglePassStdDhHkdfSha256]: { kdf: 'hkdf', hash: 'sha256' },
  [OID.dhSinglePassStdDhHkdfSha384]: { kdf: 'hkdf', hash: 'sha384' },
  [OID.dhSinglePassStdDhHkdfSha512]: { kdf: 'hkdf', hash: 'sha512' },
};

const KEK_LENGTH: Readonly<Record<string, number>> = {
  [OID.aes128Wrap]: 16,
  [OID.aes192Wrap]: 24,
  [OID.aes256Wrap]: 32,
};

/** What we produce per key kind: P-256 as OpenSSL does (RFC 5753, X9.63-SHA-256), X25519 per RFC 8418. */
const PRODUCE: Readonly<Record<Exclude<RecipientKeyKind, 'rsa'>, { scheme: string; keyAlgorithm: string }>> =
  {
    'ec-p256': { scheme: OID.dhSinglePassStdDhSha256Kdf, keyAlgorithm: OID.ecPublicKey },
    x25519: { scheme: OID.dhSinglePassStdDhHkdfSha256, keyAlgorithm: OID.x25519 },
  };

/** The KEK of one KeyAgreeRecipientInfo: both sides go through here so they cannot diverge. */
export function deriveKek(
  scheme: AgreementScheme,
  z: Buffer,
  wrap: AlgorithmIdentifier,
  ukm?: Buffer,
): Buffer {
  const length = KEK_LENGTH[wrap.algorithm];
  if (!length)
    throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `key wrap ${wrap.algorithm} is not supported`);
  const bits = Buffer.alloc(4);
  bits.writeUInt32BE(length * 8);
  const sharedInfo = toDer(
    new EccCmsSharedInfo({
      keyInfo: wrap,
      suppPubInfo: new OctetString(arrayBuffer(bits)),
      ...(ukm ? { entityUInfo: new OctetString(arrayBuffer(ukm)) } : {}),
    }),
  );
  return scheme.kdf === 'x963'
    ? x963Kdf(scheme.hash, z, sharedInfo, length)
    : hkdf(scheme.hash, z, sharedInfo, length, ukm);
}

/** The subjectPublicKey BIT STRING content (without the unused-bits octet) of a public key. */
function rawPublicKey(key: KeyObject): Buffer {
  const spki = key.export({ format: 'der', type: 'spki' });
  const [, bitString] = tlvChildren(spki, readTlv(spki, 0));
  if (!bitString || bitString.tag !== 0x03) throw malformed('SubjectPublicKeyInfo without a BIT STRING');
  return Buffer.from(tlvContent(spki, bitString).subarray(1));
}

/**
 * KeyAgreeRecipientInfo (ephemeral-static ECDH, one fresh ephemeral key per recipient), RFC 5652 §6.2.2:
 * ```asn1
 * KeyAgreeRecipientInfo ::= SEQUENCE {
 *   version CMSVersion,  -- always set to 3
 *   originator [0] EXPLICIT OriginatorIdentifierOrKey,
 *   ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
 *   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
 *   recipientEncryptedKeys RecipientEncryptedKeys }
 * ```
 * keyEncryptionAlgorithm is the agreement scheme with the key-wrap AlgorithmIdentifier as parameters.
 */
export function keyAgreeRecipientInfo(
  publicKey: KeyObject,
  id: RecipientCertId,
  cek: Buffer,
  options: { useSki: boolean; registry: AlgorithmRegistry },
): RecipientInfo {
  const kind = recipientKeyKind(publicKey);
  if (kind === 'rsa')
    throw new QerdsError('CRYPTO_UNSUPPORTED_KEY', 'RSA keys use key transport, not key agreement');
  const produce = PRODUCE[kind];
  options.registry.require(produce.scheme, 'key-agreement', 'produce');
  options.registry.require(OID.aes256Wrap, 'key-wrap', 'produce');
  const ephemeral =
    kind === 'x25519'
      ? generateKeyPairSync('x25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey });
  const wrap = algorithm(OID.aes256Wrap);
  const kek = deriveKek(SCHEMES[produce.scheme] as AgreementScheme, z, wrap);
  const encryptedKey = aesKeyWrap(kek, cek);
  return new RecipientInfo({
    kari: new KeyAgreeRecipientInfo({
      version: 3,
      originator: new OriginatorIdentifierOrKey({
        // RFC 8418 §2.3: parameters absent for X25519; OpenSSL also leaves them absent for id-ecPublicKey.
        originatorKey: new OriginatorPublicKey({
          algorithm: algorithm(produce.keyAlgorithm),
          publicKey: arrayBuffer(rawPublicKey(ephemeral.publicKey)),
        }),
      }),
      keyEncryptionAlgorithm: algorithm(produce.scheme, arrayBuffer(toDer(wrap))),
      recipientEncryptedKeys: new RecipientEncryptedKeys([
        new RecipientEncryptedKey({
          rid: keyAgreeRecipientIdentifier(id, options.useSki),
          encryptedKey: new OctetString(arrayBuffer(encryptedKey)),
        }),
      ]),
    }),
  });
}

/** The sender's ephemeral public key as a KeyObject on the recipient's curve. */
function originatorPublicKey(kari: KeyAgreeRecipientInfo, kind: RecipientKeyKind): KeyObject {
  const key = kari.originator.originatorKey;
  if (!key)
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      'only ephemeral-static key agreement (originatorKey) is supported',
    );
  const point = Buffer.from(key.publicKey);
  let algorithmDer: Buffer;
  if (kind === 'ec-p256' && key.algorithm.algorithm === OID.ecPublicKey) {
    algorithmDer = derTlv(0x30, derObjectIdentifier(OID.ecPublicKey), derObjectIdentifier(OID.prime256v1));
  } else if (kind === 'x25519' && key.algorithm.algorithm === OID.x25519) {
    algorithmDer = derTlv(0x30, derObjectIdentifier(OID.x25519));
  } else {
    throw malformed(`originator key ${key.algorithm.algorithm} does not fit a ${kind} recipient key`);
  }
  try {
    return createPublicKey({
      key: derTlv(0x30, algorithmDer, derTlv(0x03, Buffer.from([0]), point)),
      format: 'der',
      type: 'spki',
    });
  } catch (cause) {
    throw new QerdsError('CRYPTO_MALFORMED', 'originator public key is not a valid point', { cause });
  }
}

/**
 * The content-encryption key from a KeyAgreeRecipientInfo, or undefined when none of its
 * RecipientEncryptedKeys names `certId`.
 */
export function openKeyAgree(
  kari: KeyAgreeRecipientInfo,
  privateKey: KeyObject,
  certId: RecipientCertId,
  registry: AlgorithmRegistry,
): { cek: Buffer; algorithm: string } | undefined {
  const mine = kari.recipientEncryptedKeys.find((rek) => identifiesCertificate(rek.rid, certId));
  if (!mine) return undefined;
  const kind = recipientKeyKind(privateKey);
  if (kind === 'rsa') throw malformed('key agreement RecipientInfo for an RSA key');
  const entry = registry.require(kari.keyEncryptionAlgorithm.algorithm, 'key-agreement', 'consume');
  const scheme = SCHEMES[kari.keyEncryptionAlgorithm.algorithm];
  if (!scheme)
    throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `key agreement ${entry.id} is not supported`);
  const params = kari.keyEncryptionAlgorithm.parameters;
  if (!params) throw malformed('key agreement algorithm without its key-wrap algorithm');
  let wrap: AlgorithmIdentifier;
  try {
    wrap = AsnConvert.parse(params, AlgorithmIdentifier);
  } catch (cause) {
    throw new QerdsError('CRYPTO_MALFORMED', 'malformed key-wrap algorithm', { cause });
  }
  registry.require(wrap.algorithm, 'key-wrap', 'consume');
  const peer = originatorPublicKey(kari, kind);
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey, publicKey: peer });
  } catch (cause) {
    throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed', { cause });
  }
  const ukm = kari.ukm ? Buffer.from(kari.ukm.buffer) : undefined;
  const kek = deriveKek(scheme, z, wrap, ukm);
  return { cek: aesKeyUnwrap(kek, Buffer.from(mine.encryptedKey.buffer)), algorithm: entry.id };
}
