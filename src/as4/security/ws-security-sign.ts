import { createHash } from 'node:crypto';
import { QerdsError } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { signBytes, signatureAlgorithmFor } from './algorithms.js';
import { canonicalElement, canonicalize, canonicalText, childElements } from '../../xml/index.js';
import { BODY_ID, envelopeXml, MESSAGING_ID, mustUnderstandValue } from '../message/envelope-build.js';
import { locateSoapParts } from '../message/envelope-parse.js';
import { ALG, NS, WSS } from '../model/namespaces.js';
import { attachmentDigest } from '../message/swa.js';
import type { Attachment, SignatureReference, SoapVersion } from '../model/types.js';
import { idOf, parseXml } from '../message/xml-util.js';

export const BST_ID = 'id-bst';

/** RFC 2392 `cid:` URL of a Content-ID (characters outside the URL set %-escaped). */
export function cidUrl(contentId: string): string {
  return `cid:${contentId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) => encodeURIComponent(c))}`;
}

/** A part of the envelope the signature covers: its wsu:Id and its Exclusive C14N form (UTF-16 text). */
export interface SignedPart {
  readonly id: string;
  readonly canonical: string;
}

/** A `ds:` element inside ds:SignedInfo (which declares the prefix), in canonical form. */
function ds(localName: string, content = '', algorithm?: string): string {
  return canonicalElement(
    `ds:${localName}`,
    [],
    algorithm === undefined ? [] : [['', 'Algorithm', 'Algorithm', algorithm]],
    content,
  );
}

function referenceXml(uri: string, transform: string, digestValue: string): string {
  return canonicalElement(
    'ds:Reference',
    [],
    [['', 'URI', 'URI', uri]],
    ds('Transforms', ds('Transform', '', transform)) +
      ds('DigestMethod', '', ALG.sha256) +
      ds('DigestValue', digestValue),
  );
}

/**
 * The detached XMLDSig of an AS4 message (AS4 §5.1.4, WS-Security 1.1.1 + X.509 token profile + SwA profile):
 * one reference per part (by wsu:Id, exclusive C14N, SHA-256) and per attachment (cid:, SwA
 * Attachment-Content-Signature-Transform); the key is the BinarySecurityToken `BST_ID` of securityHeaderXml.
 * ds:SignedInfo is written in its canonical form and signed so; the parts are digested as given.
 * Returns the `ds:Signature` element as text and the references (what the NRR receipt must acknowledge).
 */
export function signatureXml(
  parts: readonly SignedPart[],
  attachments: readonly Attachment[],
  identity: SigningIdentity,
): { xml: string; references: SignatureReference[] } {
  const references: SignatureReference[] = [];
  let refs = '';
  const add = (uri: string, transform: string, digest: Buffer) => {
    const digestValue = digest.toString('base64');
    refs += referenceXml(uri, transform, digestValue);
    references.push({ uri, transforms: [transform], digestMethod: ALG.sha256, digestValue });
  };
  for (const part of parts)
    add(`#${part.id}`, ALG.excC14n, createHash('sha256').update(part.canonical, 'utf8').digest());
  for (const a of attachments)
    add(cidUrl(a.contentId), WSS.swaContentSignatureTransform, attachmentDigest(a, 'sha256'));
  const signatureAlgorithm = signatureAlgorithmFor(identity.privateKey);
  const content =
    ds('CanonicalizationMethod', '', ALG.excC14n) + ds('SignatureMethod', '', signatureAlgorithm) + refs;
  const signedInfo = canonicalElement('ds:SignedInfo', [['ds', NS.ds]], [], content);
  const value = signBytes(signatureAlgorithm, identity.privateKey, Buffer.from(signedInfo, 'utf8'));
  const keyInfo =
    `<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#${BST_ID}" ` +
    `ValueType="${WSS.x509v3}"></wsse:Reference></wsse:SecurityTokenReference></ds:KeyInfo>`;
  const xml =
    // In the envelope, SignedInfo takes the ds declaration from ds:Signature: its canonical form is `signedInfo`.
    `<ds:Signature xmlns:ds="${NS.ds}"><ds:SignedInfo>${content}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>${keyInfo}</ds:Signature>`;
  return { xml, references };
}

/**
 * `wsse:Security` (mustUnderstand, under the envelope's prefix `envPrefix`) with our BinarySecurityToken
 * followed by `blocks` (text: the encryption elements, then the ds:Signature, so that a receiver processing
 * the header in order decrypts first). It declares wsse and wsu for what it holds.
 */
export function securityHeaderXml(
  soapVersion: SoapVersion,
  identity: SigningIdentity,
  blocks: string,
  envPrefix = 'env',
): string {
  return (
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}" ${envPrefix}:mustUnderstand="${mustUnderstandValue(soapVersion)}">` +
    `<wsse:BinarySecurityToken EncodingType="${WSS.base64Binary}" ValueType="${WSS.x509v3}" wsu:Id="${BST_ID}">` +
    `${canonicalText(identity.certificate.raw.toString('base64'))}</wsse:BinarySecurityToken>${blocks}</wsse:Security>`
  );
}

/**
 * Sign an envelope given as a DOM in place (tests build changed or hostile envelopes this way; the envelopes we
 * send are signed as text, user-message-pack.ts and signals.ts): the same signature as signatureXml, over
 * eb:Messaging and the Body canonicalized from the DOM (a wsu:Id added where missing).
 */
export function signEnvelope(
  doc: Document,
  attachments: readonly Attachment[],
  identity: SigningIdentity,
): { references: readonly SignatureReference[] } {
  const { soapVersion, header, body, messaging, envelope } = locateSoapParts(doc);
  if (childElements(header, NS.wsse, 'Security').length > 0)
    throw new QerdsError('AS4_SIGN_FAILED', 'envelope already has a wsse:Security header');
  const parts = [
    { id: ensureId(messaging, MESSAGING_ID), canonical: canonicalize(messaging) },
    { id: ensureId(body, BODY_ID), canonical: canonicalize(body) },
  ];
  const signature = signatureXml(parts, attachments, identity);
  const prefix = envelope.prefix ?? 'env';
  const security = securityHeaderXml(soapVersion, identity, signature.xml, prefix);
  const parsed = parseXml(
    `<${prefix}:Envelope xmlns:${prefix}="${envelope.namespaceURI ?? ''}">${security}</${prefix}:Envelope>`,
  ).documentElement!.firstChild!;
  header.insertBefore(doc.importNode(parsed, true), header.firstChild);
  return { references: signature.references };
}

function ensureId(el: Element, fallback: string): string {
  const existing = idOf(el);
  if (existing) return existing;
  el.setAttributeNS(NS.xmlns, 'xmlns:wsu', NS.wsu);
  el.setAttributeNS(NS.wsu, 'wsu:Id', fallback);
  return fallback;
}

/**
 * A signed envelope as text: `messaging` and `body` (eb:Messaging and env:Body in canonical form, with the Ids
 * MESSAGING_ID and BODY_ID: envelope-build.ts) are digested as given and placed as given, after wsse:Security
 * (the BinarySecurityToken, `encryption` — encryption elements as text — and the signature).
 */
export function signedEnvelopeXml(
  soapVersion: SoapVersion,
  messaging: string,
  body: string,
  identity: SigningIdentity,
  attachments: readonly Attachment[] = [],
  encryption = '',
): { xml: string; references: SignatureReference[] } {
  const signature = signatureXml(
    [
      { id: MESSAGING_ID, canonical: messaging },
      { id: BODY_ID, canonical: body },
    ],
    attachments,
    identity,
  );
  const security = securityHeaderXml(soapVersion, identity, encryption + signature.xml);
  return { xml: envelopeXml(soapVersion, security + messaging, body), references: signature.references };
}
