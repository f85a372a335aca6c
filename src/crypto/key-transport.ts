import { constants, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { KeyTransRecipientInfo, RecipientInfo } from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { algorithm, arrayBuffer, RsaesOaepParams, toDer } from './asn1.js';
import { malformed } from './ber.js';
import { OID } from '../pki/oids.js';
import type { RecipientCertId } from './recipient-cert.js';
import { recipientIdentifier } from './recipient-id.js';
import type { AlgorithmRegistry, RsaKeyTransportChoice } from './types.js';

/** Node hash names for the digest OIDs OAEP may use. */
const HASH_NAMES: Readonly<Record<string, string>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/**
 * KeyTransRecipientInfo with RSAES-OAEP, SHA-256 and MGF1-SHA-256, empty label (RFC 8017, RFC 4055):
 * the form `openssl cms -encrypt -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256` writes.
 * ```asn1
 * KeyTransRecipientInfo ::= SEQUENCE {
 *   version CMSVersion,  -- always set to 0 or 2
 *   rid RecipientIdentifier,
 *   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
 *   encryptedKey EncryptedKey }
 * ```
 */
export function keyTransRecipientInfo(
  publicKey: KeyObject,
  id: RecipientCertId,
  cek: Buffer,
  options: { useSki: boolean; registry: AlgorithmRegistry; keyTransport?: RsaKeyTransportChoice },
): RecipientInfo {
  const rid = recipientIdentifier(id, options.useSki);
  const info = (keyEncryptionAlgorithm: AlgorithmIdentifier, encryptedKey: Buffer) =>
    new RecipientInfo({
      ktri: new KeyTransRecipientInfo({
        version: rid.subjectKeyIdentifier ? 2 : 0,
        rid,
        keyEncryptionAlgorithm,
        encryptedKey: new OctetString(arrayBuffer(encryptedKey)),
      }),
    });
  if (options.keyTransport === 'rsaes-pkcs1-v1_5') {
    // RFC 3370 §4.2.1: rsaEncryption with NULL parameters. Only a registry with the mail-interop allowance permits it.
    options.registry.require(OID.rsaEncryption, 'key-transport', 'produce');
    const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, cek);
    return info(algorithm(OID.rsaEncryption, ASN1_NULL), encryptedKey);
  }
  options.registry.require(OID.rsaesOaep, 'key-transport', 'produce');
  options.registry.require(OID.sha256, 'digest', 'produce');
  const sha256 = algorithm(OID.sha256);
  const params = new RsaesOaepParams({
    hashFunc: sha256,
    maskGenFunc: algorithm(OID.mgf1, arrayBuffer(toDer(sha256))),
  });
  const encryptedKey = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    cek,
  );
  return info(algorithm(OID.rsaesOaep, arrayBuffer(toDer(params))), encryptedKey);
}

const ASN1_NULL = arrayBuffer(Buffer.from([0x05, 0x00]));

/**
 * RSAES-PKCS1-v1_5 decryption (RFC 8017 §7.2.2) of a content-encryption key of `keyLength` octets, with
 * implicit rejection (RFC 3218 §2.3.2): a malformed block yields a random key instead of an error, so the
 * caller fails later, at the content, the same way for every bad block — no padding oracle. Node refuses
 * RSA_PKCS1_PADDING for private decryption (CVE-2023-46809), hence raw RSA and the unpadding here.
 */
function pkcs1v15Cek(privateKey: KeyObject, encryptedKey: Buffer, keyLength: number): Buffer {
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey);
  } catch (cause) {
    throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed', { cause });
  }
  const fallback = randomBytes(keyLength);
  const start = em.length - keyLength;
  // EM = 0x00 || 0x02 || PS (≥ 8 non-zero octets) || 0x00 || CEK; every octet is looked at, whatever fails.
  let bad = (em[0] ?? 1) | ((em[1] ?? 0) ^ 0x02) | (em[start - 1] ?? 1);
  for (let i = 2; i < start - 1; i++) bad |= (em[i] ?? 0) === 0 ? 1 : 0;
  if (start - 1 < 10) bad |= 1;
  const cek = Buffer.alloc(keyLength);
  const mask = bad === 0 ? 0xff : 0;
  for (let i = 0; i < keyLength; i++) cek[i] = ((em[start + i] ?? 0) & mask) | ((fallback[i] ?? 0) & ~mask);
  em.fill(0);
  return cek;
}

/** The OAEP hash the parameters name; MGF1 must use the same one (all Node/OpenSSL's API can express). */
function oaepHash(params: ArrayBuffer | null | undefined, registry: AlgorithmRegistry): string {
  if (!params) return oaepHashName(OID.sha1, registry);
  let parsed: RsaesOaepParams;
  try {
    parsed = AsnConvert.parse(params, RsaesOaepParams);
  } catch (cause) {
    throw new QerdsError('CRYPTO_MALFORMED', 'malformed RSAES-OAEP parameters', { cause });
  }
  const hash = parsed.hashFunc?.algorithm ?? OID.sha1;
  let mgfHash: string = OID.sha1;
  if (parsed.maskGenFunc) {
    if (parsed.maskGenFunc.algorithm !== OID.mgf1 || !parsed.maskGenFunc.parameters) {
      throw new QerdsError(
        'CRYPTO_UNSUPPORTED_ALGORITHM',
        `OAEP mask generation ${parsed.maskGenFunc.algorithm} is not supported`,
      );
    }
    mgfHash = AsnConvert.parse(parsed.maskGenFunc.parameters, AlgorithmIdentifier).algorithm;
  }
  if (mgfHash !== hash)
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      'OAEP with an MGF1 hash unlike the OAEP hash is not supported',
    );
  if (parsed.pSourceFunc) {
    const label = parsed.pSourceFunc.parameters
      ? AsnConvert.parse(parsed.pSourceFunc.parameters, OctetString).byteLength
      : 0;
    if (parsed.pSourceFunc.algorithm !== OID.pSpecified || label !== 0) {
      throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', 'OAEP with a non-empty label is not supported');
    }
  }
  return oaepHashName(hash, registry);
}

function oaepHashName(oid: string, registry: AlgorithmRegistry): string {
  registry.require(oid, 'digest', 'consume');
  const name = HASH_NAMES[oid];
  if (!name) throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `OAEP hash ${oid} is not supported`);
  return name;
}

/** The content-encryption key from a KeyTransRecipientInfo addressed to `privateKey`. */
export function openKeyTrans(
  ktri: KeyTransRecipientInfo,
  privateKey: KeyObject,
  registry: AlgorithmRegistry,
  keyLength: number,
): { cek: Buffer; algorithm: string } {
  const alg = ktri.keyEncryptionAlgorithm;
  const entry = registry.require(alg.algorithm, 'key-transport', 'consume');
  if (alg.algorithm === OID.rsaEncryption && privateKey.asymmetricKeyType === 'rsa') {
    return {
      cek: pkcs1v15Cek(privateKey, Buffer.from(ktri.encryptedKey.buffer), keyLength),
      algorithm: entry.id,
    };
  }
  if (alg.algorithm !== OID.rsaesOaep)
    throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `key transport ${entry.id} is not supported`);
  if (privateKey.asymmetricKeyType !== 'rsa')
    throw malformed('key transport RecipientInfo for a non-RSA key');
  const hash = oaepHash(alg.parameters, registry);
  try {
    const cek = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      Buffer.from(ktri.encryptedKey.buffer),
    );
    return { cek, algorithm: entry.id };
  } catch (cause) {
    throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed', { cause });
  }
}
