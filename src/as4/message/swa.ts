import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { canonicalizeDocument } from '../../xml/index.js';
import type { Attachment, StreamedBody } from '../model/types.js';
import { parseXml } from './xml-util.js';

/** Media types whose content the SwA profile canonicalizes as XML (SwA 1.1.1 §5.4.2). */
const XML_TYPE = /^(?:text\/xml|application\/xml|(?:application|image)\/[^;\s]*\+xml)\s*(?:;|$)/i;
const TEXT_TYPE = /^text\/[^;\s]+\s*(?:;|$)/i;

/** Every line break (CR, LF or CRLF) as CRLF: RFC 2045 canonical form of text (SwA 1.1.1 §5.4.1). */
export function toCanonicalLineEndings(body: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === 0x0d) {
      out.push(0x0d, 0x0a);
      if (body[i + 1] === 0x0a) i++;
    } else if (b === 0x0a) {
      out.push(0x0d, 0x0a);
    } else {
      out.push(b);
    }
  }
  return Buffer.from(out);
}

/**
 * Output of the Attachment-Content-Signature-Transform (SwA profile 1.1.1 §5.3.1/§5.4): the attachment's
 * content octets, after transfer decoding (the MIME codec already removed any Content-Transfer-Encoding),
 * without MIME headers, in the canonical form its media type requires: XML types → Exclusive C14N without
 * comments; other `text/*` → CRLF line endings; everything else → the octets unchanged.
 */
export function attachmentContentOctets(contentType: string, body: Buffer): Buffer {
  if (XML_TYPE.test(contentType.trim())) {
    const doc = parseXml(body.toString('utf8'), 'AS4_EBMS_0101', 'XML attachment');
    return Buffer.from(canonicalizeDocument(doc), 'utf8');
  }
  if (TEXT_TYPE.test(contentType.trim())) return toCanonicalLineEndings(body);
  return body;
}

export function digestAttachment(contentType: string, body: Buffer, nodeDigest: string): Buffer {
  return createHash(nodeDigest).update(attachmentContentOctets(contentType, body)).digest();
}

/** Whether the SwA transform passes the octets of this media type through unchanged (no canonical form). */
export function isOpaqueMediaType(contentType: string): boolean {
  return !XML_TYPE.test(contentType.trim()) && !TEXT_TYPE.test(contentType.trim());
}

/**
 * The Attachment-Content-Signature-Transform digest of an attachment, in memory or streamed. A streamed
 * binary attachment is hashed from its file in 1 MiB reads (or its SHA-256 taken as computed while it was
 * written); a streamed XML or text attachment is loaded, as its canonical form needs the whole of it.
 */
export function attachmentDigest(attachment: Attachment, nodeDigest: string): Buffer {
  const source = attachment.stream;
  if (!source || !isOpaqueMediaType(attachment.contentType))
    return digestAttachment(attachment.contentType, attachment.body, nodeDigest);
  if (nodeDigest === 'sha256' && source.sha256) return source.sha256;
  return hashFileSync(source, nodeDigest);
}

function hashFileSync(source: StreamedBody, nodeDigest: string): Buffer {
  if (!source.path) throw new Error('a streamed attachment without a file cannot be digested here');
  const hash = createHash(nodeDigest);
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(source.path, 'r');
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest();
}
