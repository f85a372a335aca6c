import { createHash } from 'node:crypto';
import { QerdsError } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { signBytes, signatureAlgorithmFor } from './algorithms.js';
import { canonicalize, childElements } from '../../xml/index.js';
import { BODY_ID, MESSAGING_ID } from '../message/envelope-build.js';
import { locateSoapParts } from '../message/envelope-parse.js';
import { ALG, NS, WSS } from '../model/namespaces.js';
import { attachmentDigest } from '../message/swa.js';
import type { Attachment, SignatureReference, SignOptions, SignResult } from '../model/types.js';
import { idOf } from '../message/xml-util.js';

export const BST_ID = 'id-bst';
export const TIMESTAMP_ID = 'id-timestamp';

/** RFC 2392 `cid:` URL of a Content-ID (characters outside the URL set %-escaped). */
export function cidUrl(contentId: string): string {
  return `cid:${contentId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) => encodeURIComponent(c))}`;
}

function ensureId(el: Element, fallback: string): string {
  const existing = idOf(el);
  if (existing) return existing;
  el.setAttributeNS(NS.xmlns, 'xmlns:wsu', NS.wsu);
  el.setAttributeNS(NS.wsu, 'wsu:Id', fallback);
  return fallback;
}

function dsElement(
  doc: Document,
  parent: Element,
  localName: string,
  attrs: Record<string, string> = {},
  text?: string,
): Element {
  const el = doc.createElementNS(NS.ds, `ds:${localName}`);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.appendChild(doc.createTextNode(text));
  parent.appendChild(el);
  return el;
}

function appendReference(
  doc: Document,
  signedInfo: Element,
  uri: string,
  transform: string,
  digest: Buffer,
): SignatureReference {
  const ref = dsElement(doc, signedInfo, 'Reference', { URI: uri });
  const transforms = dsElement(doc, ref, 'Transforms');
  dsElement(doc, transforms, 'Transform', { Algorithm: transform });
  dsElement(doc, ref, 'DigestMethod', { Algorithm: ALG.sha256 });
  const digestValue = digest.toString('base64');
  dsElement(doc, ref, 'DigestValue', {}, digestValue);
  return { uri, transforms: [transform], digestMethod: ALG.sha256, digestValue, element: ref };
}

/**
 * Sign an AS4 envelope in place (AS4 §5.1.4, WS-Security 1.1.1 + X.509 token profile + SwA profile):
 * a detached XMLDSig in `wsse:Security` (mustUnderstand) over eb:Messaging and the SOAP Body (by wsu:Id,
 * exclusive C14N, SHA-256), the wsu:Timestamp when asked for, and every attachment (cid:, SwA
 * Attachment-Content-Signature-Transform); the key is a BinarySecurityToken referenced from KeyInfo.
 */
export function signEnvelope(
  doc: Document,
  attachments: readonly Attachment[],
  identity: SigningIdentity,
  options: SignOptions = {},
): SignResult {
  const { soapVersion, header, body, messaging, envelope } = locateSoapParts(doc);
  if (childElements(header, NS.wsse, 'Security').length > 0)
    throw new QerdsError('AS4_SIGN_FAILED', 'envelope already has a wsse:Security header');
  const messagingId = ensureId(messaging, MESSAGING_ID);
  const bodyId = ensureId(body, BODY_ID);

  const security = doc.createElementNS(NS.wsse, 'wsse:Security');
  security.setAttributeNS(NS.xmlns, 'xmlns:wsse', NS.wsse);
  security.setAttributeNS(NS.xmlns, 'xmlns:wsu', NS.wsu);
  security.setAttributeNS(
    envelope.namespaceURI,
    `${envelope.prefix ?? 'env'}:mustUnderstand`,
    soapVersion === '1.2' ? 'true' : '1',
  );
  header.insertBefore(security, header.firstChild);

  const bst = doc.createElementNS(NS.wsse, 'wsse:BinarySecurityToken');
  bst.setAttribute('EncodingType', WSS.base64Binary);
  bst.setAttribute('ValueType', WSS.x509v3);
  bst.setAttributeNS(NS.wsu, 'wsu:Id', BST_ID);
  bst.appendChild(doc.createTextNode(identity.certificate.raw.toString('base64')));
  security.appendChild(bst);

  let timestamp: Element | undefined;
  if (options.timestamp) {
    const created = options.timestamp.created;
    const expires = new Date(created.getTime() + (options.timestamp.ttlSeconds ?? 300) * 1000);
    timestamp = doc.createElementNS(NS.wsu, 'wsu:Timestamp');
    timestamp.setAttributeNS(NS.wsu, 'wsu:Id', TIMESTAMP_ID);
    for (const [name, at] of [
      ['Created', created],
      ['Expires', expires],
    ] as const) {
      const el = doc.createElementNS(NS.wsu, `wsu:${name}`);
      el.appendChild(doc.createTextNode(at.toISOString()));
      timestamp.appendChild(el);
    }
    security.appendChild(timestamp);
  }

  const signature = doc.createElementNS(NS.ds, 'ds:Signature');
  signature.setAttributeNS(NS.xmlns, 'xmlns:ds', NS.ds);
  security.appendChild(signature);
  const signedInfo = dsElement(doc, signature, 'SignedInfo');
  dsElement(doc, signedInfo, 'CanonicalizationMethod', { Algorithm: ALG.excC14n });
  const signatureAlgorithm = signatureAlgorithmFor(identity.privateKey);
  dsElement(doc, signedInfo, 'SignatureMethod', { Algorithm: signatureAlgorithm });

  const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const references: SignatureReference[] = [];
  if (timestamp)
    references.push(
      appendReference(doc, signedInfo, `#${TIMESTAMP_ID}`, ALG.excC14n, sha256(canonicalize(timestamp))),
    );
  references.push(
    appendReference(doc, signedInfo, `#${messagingId}`, ALG.excC14n, sha256(canonicalize(messaging))),
  );
  references.push(appendReference(doc, signedInfo, `#${bodyId}`, ALG.excC14n, sha256(canonicalize(body))));
  for (const a of attachments) {
    references.push(
      appendReference(
        doc,
        signedInfo,
        cidUrl(a.contentId),
        WSS.swaContentSignatureTransform,
        attachmentDigest(a, 'sha256'),
      ),
    );
  }

  const value = signBytes(
    signatureAlgorithm,
    identity.privateKey,
    Buffer.from(canonicalize(signedInfo), 'utf8'),
  );
  dsElement(doc, signature, 'SignatureValue', {}, value.toString('base64'));
  const keyInfo = dsElement(doc, signature, 'KeyInfo');
  const str = doc.createElementNS(NS.wsse, 'wsse:SecurityTokenReference');
  keyInfo.appendChild(str);
  const ref = doc.createElementNS(NS.wsse, 'wsse:Reference');
  ref.setAttribute('URI', `#${BST_ID}`);
  ref.setAttribute('ValueType', WSS.x509v3);
  str.appendChild(ref);
  return { document: doc, references };
}
