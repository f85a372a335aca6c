import type { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import { QerdsError, type PayloadPart } from '../core/index.js';
import { encryptCmsStream } from '../crypto/index.js';
import type { BlobStore } from '../store/types.js';
import { certificateFrom } from '../pki/parse-cache.js';
import { readTlvHeader } from '../pki/der.js';

/** Media type of a part C2 encrypted for the recipient (RFC 8551 §3.2: S/MIME type authEnveloped-data). */
export const AUTH_ENVELOPED_CONTENT_TYPE = 'application/pkcs7-mime; smime-type=authEnveloped-data';

/**
 * DER of the content-type OIDs that mark a CMS ContentInfo as encrypted already:
 * id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.23 (RFC 5083) and id-envelopedData 1.2.840.113549.1.7.3.
 */
const ENVELOPED_OIDS = [
  Buffer.from('060b2a864886f70d0109100117', 'hex'),
  Buffer.from('06092a864886f70d010703', 'hex'),
];

/** Enough of a part to read the ContentInfo's outer header and contentType. */
const HEAD_BYTES = 24;

/**
 * Whether `head` (the first octets of a part) begins a CMS ContentInfo of AuthEnvelopedData or
 * EnvelopedData: `30 <length> 06 <oid>`, the length in DER short or long form or BER indefinite form.
 *
 * The bytes decide, not the declared content type: a plaintext labelled `application/pkcs7-mime` (or a
 * signed-data S/MIME part, which is not encrypted) would otherwise cross C3 in the clear.
 */
export function isEnvelopedCms(head: Buffer): boolean {
  return cmsContentTypeIs(head, ENVELOPED_OIDS);
}

/** DER of id-signedData 1.2.840.113549.1.7.2: a ContentInfo of SignedData (CAdES, S/MIME signed). */
const SIGNED_DATA_OID = Buffer.from('06092a864886f70d010702', 'hex');

/** Whether `head` begins a CMS ContentInfo of SignedData: content the sender signed or sealed itself. */
export function isSignedCms(head: Buffer): boolean {
  return cmsContentTypeIs(head, [SIGNED_DATA_OID]);
}

function cmsContentTypeIs(head: Buffer, oids: readonly Buffer[]): boolean {
  if (head[0] !== 0x30) return false;
  let offset: number;
  try {
    offset = readTlvHeader(head, 0, 4, () => new Error('not a CMS header')).contentStart;
  } catch {
    return false;
  }
  return oids.some((oid) => head.subarray(offset, offset + oid.length).equals(oid));
}

/**
 * Encrypts each part of a submission for the recipient (C4) whose encryption certificate the directory
 * names, so that C3 stores and relays only ciphertext (REQ2). Each plaintext blob is streamed through
 * CMS AuthEnvelopedData (AES-256-GCM; RSA-OAEP, ECDH P-256 or X25519 by the certificate's key) and the
 * ciphertext is stored as a new blob: the returned part points at it, and keeps the plaintext's digest,
 * size and content type. Encryption happens once, at submission, so every relay attempt sends the same
 * ciphertext and the SubmissionAcceptance binds the very bytes that travel.
 *
 * Parts that are already enveloped CMS (C1 encrypted them, e.g. with `qerds encrypt`) are returned
 * untouched. The plaintext blob stays in C2's blob store: C2 is the sender's AP and received it from C1,
 * and blobs are content-addressed and may be shared by other messages, so removing one needs reference
 * counting (a retention job's work, not the submission's).
 */
export async function encryptPartsForRecipient(
  blobs: BlobStore,
  parts: readonly PayloadPart[],
  encryptionCertificatePem: string,
): Promise<PayloadPart[]> {
  let certificate: X509Certificate;
  try {
    certificate = certificateFrom(encryptionCertificatePem);
  } catch (cause) {
    throw new QerdsError(
      'CONFIG_INVALID',
      'the directory names an encryption certificate that does not parse',
      { cause },
    );
  }
  const out: PayloadPart[] = [];
  for (const part of parts) {
    if (
      part.plaintextSha256 !== undefined ||
      isEnvelopedCms(await readHead(blobs.get(part.sha256), HEAD_BYTES))
    ) {
      out.push(part);
      continue;
    }
    // Streamed from blob to blob: the ciphertext is never held in memory, whatever the part's size.
    const { sha256, size } = await blobs.put(
      encryptCmsStream(blobs.get(part.sha256), part.size, [certificate]),
    );
    out.push({
      partId: part.partId,
      contentType: AUTH_ENVELOPED_CONTENT_TYPE,
      ...(part.filename === undefined ? {} : { filename: part.filename }),
      sha256,
      size,
      plaintextSha256: part.sha256,
      plaintextSize: part.size,
      originalContentType: part.contentType,
      ...(part.sealedOnBehalf === undefined ? {} : { sealedOnBehalf: part.sealedOnBehalf }),
    });
  }
  return out;
}

/** The first `length` octets of a stream (fewer if it is shorter); the rest is not read. */
async function readHead(stream: Readable, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= length) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}
