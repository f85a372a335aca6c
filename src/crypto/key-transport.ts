import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { KeyTransRecipientInfo, RecipientInfo } from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { algorithm, arrayBuffer, RsaesOaepParams, toDer } from './asn1.js';
import { malformed } from './ber.js';
import { OID } from './oids.js';
import type { RecipientCertId } from './recipient-cert.js';
import { recipientIdentifier } from './recipient-id.js';
import type { AlgorithmRegistry } from './types.js';

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
  options: { useSki: boolean; registry: AlgorithmRegistry },
): RecipientInfo {
  options.registry.require(OID.rsaesOaep, 'key-transport', 'produce');
  options.registry.require(OID.sha256, 'digest', 'produce');
  const sha256 = algorithm(OID.sha256);
  const params = new RsaesOaepParams({ hashFunc: sha256, maskGenFunc: algorithm(OID.mgf1, arrayBuffer(toDer(sha256))) });
  const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  const rid = recipientIdentifier(id, options.useSki);
  return new RecipientInfo({
    ktri: new KeyTransRecipientInfo({
      version: rid.subjectKeyIdentifier ? 2 : 0,
      rid,
      keyEncryptionAlgorithm: algorithm(OID.rsaesOaep, arrayBuffer(toDer(params))),
      encryptedKey: new OctetString(arrayBuffer(encryptedKey)),
    }),
  });
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
      throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `OAEP mask generation ${parsed.maskGenFunc.algorithm} is not supported`);
    }
    mgfHash = AsnConvert.parse(parsed.maskGenFunc.parameters, AlgorithmIdentifier).algorithm;
  }
  if (mgfHash !== hash) throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', 'OAEP with an MGF1 hash unlike the OAEP hash is not supported');
  if (parsed.pSourceFunc) {
    const label = parsed.pSourceFunc.parameters ? AsnConvert.parse(parsed.pSourceFunc.parameters, OctetString).byteLength : 0;
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
export function openKeyTrans(ktri: KeyTransRecipientInfo, privateKey: KeyObject, registry: AlgorithmRegistry): { cek: Buffer; algorithm: string } {
  const alg = ktri.keyEncryptionAlgorithm;
  const entry = registry.require(alg.algorithm, 'key-transport', 'consume');
  if (alg.algorithm !== OID.rsaesOaep) throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `key transport ${entry.id} is not supported`);
  if (privateKey.asymmetricKeyType !== 'rsa') throw malformed('key transport RecipientInfo for a non-RSA key');
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
