import { createHash } from 'node:crypto';
import { canonicalizeDocument } from './c14n.js';
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
