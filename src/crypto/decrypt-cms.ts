import { createDecipheriv, type Decipher } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attribute, RecipientInfos } from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { createAlgorithmRegistry } from './algorithm-registry.js';
import { GcmParameters } from './asn1.js';
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
import {
  CBC_IV_LENGTH,
  cbcCipher,
  GCM_NONCE_LENGTH,
  GCM_TAG_LENGTH,
  gcmCipher,
} from './content-encryption.js';
import { openKeyAgree } from './key-agreement.js';
import { openKeyTrans } from './key-transport.js';
import { OID } from '../pki/oids.js';
import { recipientCertId } from './recipient-cert.js';
import { describeRecipient, identifiesCertificate, type CmsRecipientName } from './recipient-id.js';
import type { AlgorithmRegistry, CmsAttribute, DecryptCmsOptions, DecryptCmsResult } from './types.js';

/** The parts of an AuthEnvelopedData or EnvelopedData (layouts in encrypt-cms.ts), as views into the message. */
interface EnvelopedParts {
  /** EnvelopedData (no mac, no authAttrs) or AuthEnvelopedData. */
  readonly authenticated: boolean;
  readonly recipientInfos: Buffer;
  readonly contentType: string;
  readonly contentEncryptionAlgorithm: Buffer;
  readonly encryptedContent: readonly Buffer[];
  /** authAttrs re-tagged as SET OF, the form that is the GCM AAD (RFC 5083 §2.2). */
  readonly authAttrs?: Buffer;
  readonly mac?: Buffer;
}

function parseEnveloped(der: Buffer): EnvelopedParts {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30) throw malformed('ContentInfo is not a SEQUENCE');
  if (outer.end !== der.length) throw malformed('data after the ContentInfo');
  const [typeTlv, explicit] = tlvChildren(der, outer);
  if (!typeTlv || !explicit || explicit.tag !== 0xa0) throw malformed('ContentInfo without content');
  const contentType = tlvOid(der, typeTlv);
  // EnvelopedData (AES-CBC) is parsed too; whether its content encryption is acceptable is the registry's
  // call (the default policy forbids CBC: no integrity; the mail-interop registry allows it).
  const authenticated = contentType === OID.authEnvelopedData;
  if (!authenticated && contentType !== OID.envelopedData)
    throw malformed(`content type ${contentType} is not AuthEnvelopedData or EnvelopedData`);
  const [aed] = tlvChildren(der, explicit);
  if (!aed || aed.tag !== 0x30) throw malformed('(Auth)EnvelopedData is not a SEQUENCE');
  const fields = tlvChildren(der, aed);
  let i = 0;
  const next = (): Tlv | undefined => fields[i];
  const version = fields[i++];
  const versions = authenticated ? [0] : [0, 2, 3, 4];
  if (
    !version ||
    version.tag !== 0x02 ||
    !versions.some((v) => tlvContent(der, version).equals(Buffer.from([v])))
  ) {
    throw malformed(
      `${authenticated ? 'AuthEnvelopedData' : 'EnvelopedData'} version is not ${versions.join(', ')}`,
    );
  }
  if (next()?.tag === 0xa0) i++; // originatorInfo: certificates and CRLs of the originator, not needed to decrypt
  const ris = fields[i++];
  if (!ris || ris.tag !== 0x31) throw malformed('missing RecipientInfos');
  const eci = fields[i++];
  if (!eci || eci.tag !== 0x30) throw malformed('missing EncryptedContentInfo');
  const [ct, alg, content] = tlvChildren(der, eci);
  if (!ct || !alg || alg.tag !== 0x30) throw malformed('incomplete EncryptedContentInfo');
  if (!content || (content.tag !== 0x80 && content.tag !== 0xa0)) {
    throw malformed('no encryptedContent (detached content is not supported)');
  }
  const common = {
    recipientInfos: tlvBytes(der, ris),
    contentType: tlvOid(der, ct),
    contentEncryptionAlgorithm: tlvBytes(der, alg),
    encryptedContent: octetStringSegments(der, { ...content, constructed: content.tag === 0xa0 }),
  };
  if (!authenticated) {
    if (next() && next()?.tag !== 0xa1) throw malformed('unexpected element after EncryptedContentInfo');
    return { authenticated, ...common };
  }
  let authAttrs: Buffer | undefined;
  const maybeAttrs = next();
  if (maybeAttrs?.tag === 0xa1) {
    i++;
    authAttrs = Buffer.concat([Buffer.from([0x31]), tlvBytes(der, maybeAttrs).subarray(1)]);
  }
  const mac = fields[i++];
  if (!mac || mac.tag !== 0x04) throw malformed('missing mac');
  if (next() && next()?.tag !== 0xa2) throw malformed('unexpected element after mac');
  return { authenticated, ...common, ...(authAttrs ? { authAttrs } : {}), mac: tlvContent(der, mac) };
}

function parseAsn<T>(bytes: Buffer | ArrayBuffer, type: new () => T, what: string): T {
  try {
    return AsnConvert.parse(bytes, type);
  } catch (cause) {
    throw new QerdsError('CRYPTO_MALFORMED', `malformed CMS: ${what}`, { cause });
  }
}

/** The content-encryption key from the RecipientInfo addressed to our certificate. */
function openRecipientInfo(
  parts: EnvelopedParts,
  options: DecryptCmsOptions,
  registry: AlgorithmRegistry,
  keyLength: number,
): { cek: Buffer; algorithm: string } {
  const certId = recipientCertId(options.certificate);
  const infos = parseAsn(parts.recipientInfos, RecipientInfos, 'RecipientInfos');
  for (const info of infos) {
    if (info.ktri && identifiesCertificate(info.ktri.rid, certId))
      return openKeyTrans(info.ktri, options.privateKey, registry, keyLength);
    if (info.kari) {
      const opened = openKeyAgree(info.kari, options.privateKey, certId, registry);
      if (opened) return opened;
    }
  }
  throw new QerdsError('CRYPTO_NO_MATCHING_RECIPIENT', 'the message is not encrypted for this certificate', {
    details: { subject: options.certificate.subject, serialNumber: options.certificate.serialNumber },
  });
}

/**
 * Decrypt a DER (or BER) ContentInfo holding AuthEnvelopedData with AES-GCM — or EnvelopedData with
 * AES-256-CBC when the registry allows CBC (createMailInteropRegistry; the default forbids it) — as the
 * recipient named by `options.certificate`. The GCM tag is checked over the whole ciphertext before any plaintext is
 * returned: a wrong key, a truncated or altered message, or an altered tag yields CRYPTO_DECRYPT_FAILED
 * or CRYPTO_MALFORMED and never a partial plaintext. CRYPTO_NO_MATCHING_RECIPIENT when no RecipientInfo
 * names the certificate.
 */
export function decryptCmsDetailed(der: Buffer, options: DecryptCmsOptions): DecryptCmsResult {
  const registry = options.registry ?? createAlgorithmRegistry();
  const parts = parseEnveloped(der);
  const algorithmId = parseAsn(
    parts.contentEncryptionAlgorithm,
    AlgorithmIdentifier,
    'contentEncryptionAlgorithm',
  );
  const entry = registry.require(algorithmId.algorithm, 'content-encryption', 'consume');
  const { plaintext, keyManagement } = parts.authenticated
    ? openGcm(parts, algorithmId, options, registry)
    : openCbc(parts, algorithmId, options, registry);
  return {
    plaintext,
    contentEncryption: entry.id,
    keyManagement,
    authenticatedAttributes: parts.authAttrs ? authenticatedAttributes(parts.authAttrs) : [],
  };
}

interface Opened {
  readonly plaintext: Buffer;
  /** Key transport / agreement algorithm id of the RecipientInfo that opened it. */
  readonly keyManagement: string;
}

function openGcm(
  parts: EnvelopedParts,
  algorithmId: AlgorithmIdentifier,
  options: DecryptCmsOptions,
  registry: AlgorithmRegistry,
): Opened {
  const cipherSpec = gcmCipher(algorithmId.algorithm);
  if (!algorithmId.parameters) throw malformed('AES-GCM without GCMParameters');
  const gcm = parseAsn(algorithmId.parameters, GcmParameters, 'GCMParameters');
  const nonce = Buffer.from(gcm.nonce.buffer);
  if (nonce.length !== GCM_NONCE_LENGTH)
    throw new QerdsError(
      'CRYPTO_UNSUPPORTED_ALGORITHM',
      `GCM nonce of ${nonce.length} octets; only 12 is supported`,
    );
  // Tags shorter than 16 octets make forgeries cheaper (RFC 5084 allows 12); policy requires the full tag.
  if (gcm.icvLength !== GCM_TAG_LENGTH) {
    throw new QerdsError(
      'CRYPTO_ALGORITHM_FORBIDDEN',
      `GCM tag length ${gcm.icvLength} refused; 16 is required`,
    );
  }
  if (parts.mac?.length !== GCM_TAG_LENGTH)
    throw malformed(`mac is ${parts.mac?.length ?? 0} octets, GCMParameters say 16`);
  const mac = parts.mac;
  return decipherAll(parts, options, registry, cipherSpec.keyLength, (cek) => {
    const decipher = createDecipheriv(cipherSpec.nodeName, cek, nonce, { authTagLength: GCM_TAG_LENGTH });
    decipher.setAuthTag(mac);
    if (parts.authAttrs) decipher.setAAD(parts.authAttrs);
    return decipher;
  });
}

/** EnvelopedData with AES-CBC (only reached when the registry allows CBC: S/MIME mail interop). */
function openCbc(
  parts: EnvelopedParts,
  algorithmId: AlgorithmIdentifier,
  options: DecryptCmsOptions,
  registry: AlgorithmRegistry,
): Opened {
  const cipherSpec = cbcCipher(algorithmId.algorithm);
  const params = algorithmId.parameters ? Buffer.from(algorithmId.parameters) : undefined;
  const ivTlv = params && params.length > 0 ? readTlv(params, 0) : undefined;
  if (
    !params ||
    !ivTlv ||
    ivTlv.tag !== 0x04 ||
    ivTlv.end !== params.length ||
    tlvContent(params, ivTlv).length !== CBC_IV_LENGTH
  ) {
    throw malformed('AES-CBC parameters are not a 16-octet IV');
  }
  const iv = tlvContent(params, ivTlv);
  return decipherAll(parts, options, registry, cipherSpec.keyLength, (cek) =>
    createDecipheriv(cipherSpec.nodeName, cek, iv),
  );
}

/**
 * The content-encryption key from our RecipientInfo, then the content through the decipher. Nothing is
 * returned unless final() succeeds (GCM tag, CBC padding); what update() produced is wiped on failure.
 */
function decipherAll(
  parts: EnvelopedParts,
  options: DecryptCmsOptions,
  registry: AlgorithmRegistry,
  keyLength: number,
  decipherFor: (cek: Buffer) => Decipher,
): Opened {
  const { cek, algorithm: keyManagement } = openRecipientInfo(parts, options, registry, keyLength);
  if (cek.length !== keyLength) throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed');
  const out: Buffer[] = [];
  try {
    const decipher = decipherFor(cek);
    for (const segment of parts.encryptedContent) out.push(decipher.update(segment));
    out.push(decipher.final());
  } catch (cause) {
    // The tag (or padding) did not verify: drop what update() produced so no unauthenticated plaintext escapes.
    for (const chunk of out) chunk.fill(0);
    throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed', { cause });
  } finally {
    cek.fill(0);
  }
  return { plaintext: out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out), keyManagement };
}

function authenticatedAttributes(set: Buffer): CmsAttribute[] {
  const tlv = readTlv(set, 0);
  return tlvChildren(set, tlv).map((child) => {
    const attribute = parseAsn(tlvBytes(set, child), Attribute, 'authenticated attribute');
    return { type: attribute.attrType, values: attribute.attrValues.map((v) => Buffer.from(v)) };
  });
}

/** decryptCmsDetailed, returning the plaintext only. */
export function decryptCms(der: Buffer, options: DecryptCmsOptions): Buffer {
  return decryptCmsDetailed(der, options).plaintext;
}

/**
 * Whom an AuthEnvelopedData or EnvelopedData is encrypted for, as its RecipientInfos name them (issuer and serial, or key
 * identifier): what a reader without the key is told. No key is needed and nothing is decrypted.
 */
export function cmsRecipientsOf(der: Buffer): CmsRecipientName[] {
  const infos = parseAsn(parseEnveloped(der).recipientInfos, RecipientInfos, 'RecipientInfos');
  return infos.flatMap((info) => {
    if (info.ktri) return [describeRecipient(info.ktri.rid)];
    if (info.kari) return info.kari.recipientEncryptedKeys.map((key) => describeRecipient(key.rid));
    return [{}];
  });
}
