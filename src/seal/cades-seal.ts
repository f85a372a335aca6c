import { createHash } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import type { Clock, TsaClient } from '../core/ports.js';
import { createCmsSignatureWith } from '../crypto/cms-signed-data.js';
import { OID as CMS_OID } from '../pki/oids.js';
import { asSigner, derAttribute, type Signer, type SigningIdentity } from '../pki/index.js';

/** The detached content: its bytes, or its SHA-256 when it was digested while streaming. */
export type DetachedContent = Buffer | { readonly sha256: Buffer };

export interface CadesSealOptions {
  /** The e-seal: a key in this process, or a {@link Signer} whose key stays elsewhere (a PKCS#11 token). */
  readonly identity: SigningIdentity | Signer;
  /** When present, a signature-time-stamp unsigned attribute is added: level B-T. Absent: B-B. */
  readonly tsa?: TsaClient;
  /** Source of the signing-time attribute. */
  readonly clock: Clock;
}

/**
 * Seal a binary payload with a detached CAdES baseline signature (ETSI EN 319 122-1 B-B, or B-T with a
 * TSA): a CMS SignedData (RFC 5652) without eContent, eContentType id-data, one SignerInfo identified by
 * issuerAndSerialNumber, signed attributes content-type, signing-time, message-digest (SHA-256) and
 * signing-certificate-v2 (RFC 5035), the e-seal certificate and its chain in `certificates`; for B-T the
 * unsigned signature-time-stamp attribute (RFC 3161 token over the SignatureValue octets). Returns the
 * DER ContentInfo, which `openssl cms -verify -binary -content <payload> -inform DER` accepts. The SignedData
 * is written by crypto's CMS builder; the digest is SHA-256 whatever the key (the CAdES profile here).
 */
export async function sealDetachedCms(content: DetachedContent, options: CadesSealOptions): Promise<Buffer> {
  const digest = Buffer.isBuffer(content) ? createHash('sha256').update(content).digest() : content.sha256;
  if (digest.length !== 32)
    throw new QerdsError('SEAL_MALFORMED', 'the content digest is not a SHA-256 value');
  return sealCms({ digest }, options);
}

/**
 * The same CAdES baseline signature, enveloping: the content is inside the SignedData (eContent), so the file
 * alone is the sealed document (`openssl cms -verify -inform DER -in <file>` prints the content). Used when the
 * AP seals binary content on a sender's behalf: the recipient gets one file it can hand on.
 */
export async function sealEnvelopingCms(content: Buffer, options: CadesSealOptions): Promise<Buffer> {
  return sealCms(content, options);
}

async function sealCms(
  content: Buffer | { readonly digest: Buffer },
  options: CadesSealOptions,
): Promise<Buffer> {
  const keyType = options.identity.certificate.publicKey.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec')
    throw new QerdsError(
      'SEAL_ALGORITHM_UNSUPPORTED',
      `no CAdES signature algorithm for ${keyType ?? 'unknown'} keys`,
    );
  const identity = asSigner(options.identity);
  const signingTime = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);

  const signed = await createCmsSignatureWith(
    identity,
    { content, encapsulate: Buffer.isBuffer(content), signingTime },
    'sha256',
  );
  const unsigned: Buffer[] = [];
  if (options.tsa) {
    // EN 319 122-1 §5.3: the time-stamp token is over the signature field's value octets.
    const token = await options.tsa.timestamp({
      algorithm: 'sha256',
      digest: createHash('sha256').update(signed.signature).digest(),
    });
    unsigned.push(derAttribute(CMS_OID.signatureTimeStampToken, token.der));
  }
  return signed.encode(unsigned);
}
