import { createHash, timingSafeEqual } from 'node:crypto';
import type { Finding } from '../../pki/types.js';
import { checkCertificateRole } from '../../pki/certificate-roles.js';
import { digestName, isSupportedSignatureAlgorithm, verifyBytes } from './algorithms.js';
import { canonicalize, childElements, textOf } from '../../xml/index.js';
import { locateSoapParts, type SoapParts } from '../message/envelope-parse.js';
import { contentIdFromCid } from '../message/multipart.js';
import { ALG, NS, WSS } from '../model/namespaces.js';
import { attachmentContentOctets, attachmentDigest } from '../message/swa.js';
import { resolveSigningToken } from './token-resolver.js';
import type { Attachment, VerifiedReference, VerifyOptions, VerifyResult } from '../model/types.js';
import { allElements, isNs } from '../message/xml-util.js';

const ULTIMATE_RECEIVER = 'http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver';

interface Transform {
  readonly algorithm: string;
  readonly prefixes: readonly string[];
}

function prefixListOf(el: Element): string[] {
  const inc = childElements(el, NS.ec, 'InclusiveNamespaces')[0];
  return (inc?.getAttribute('PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

function transformsOf(ref: Element): Transform[] {
  const ts = childElements(ref, NS.ds, 'Transforms')[0];
  return ts
    ? childElements(ts, NS.ds, 'Transform').map((t) => ({
        algorithm: t.getAttribute('Algorithm') ?? '',
        prefixes: prefixListOf(t),
      }))
    : [];
}

/** Security headers addressed to us (no role/actor, or the ultimate receiver); others are not ours to process. */
export function securityHeaders(parts: SoapParts): Element[] {
  const env = parts.envelope.namespaceURI;
  return childElements(parts.header, NS.wsse, 'Security').filter((s) => {
    const role = parts.soapVersion === '1.2' ? s.getAttributeNS(env, 'role') : s.getAttributeNS(env, 'actor');
    return !role || role === ULTIMATE_RECEIVER;
  });
}

/**
 * wsu:Id / Id value → elements carrying it (more than one = ambiguous). An element is indexed under its
 * non-empty wsu:Id and under its unqualified Id attribute when it has one (once when both are the same value),
 * read in one pass over its attributes.
 */
function idIndex(doc: Document): Map<string, Element[]> {
  const byId = new Map<string, Element[]>();
  const add = (id: string, el: Element): void => {
    const list = byId.get(id);
    if (list) list.push(el);
    else byId.set(id, [el]);
  };
  for (const el of allElements(doc)) {
    const attrs = el.attributes;
    let wsu: string | undefined;
    let bare: string | undefined;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i) as Attr;
      if (a.localName !== 'Id') continue;
      if (a.namespaceURI === NS.wsu) wsu ??= a.value;
      else if (a.name === 'Id' && !a.namespaceURI) bare = a.value;
    }
    if (wsu) add(wsu, el);
    if (bare !== undefined && !(wsu && bare === wsu)) add(bare, el);
  }
  return byId;
}

function sameDigest(expectedB64: string, actual: Buffer): boolean {
  const expected = Buffer.from(expectedB64, 'base64');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Verify the WS-Security signature of an AS4 message and say what it really covers. Valid only if:
 * the one ds:Signature of our Security header verifies with a resolvable certificate that the trust store
 * (or the expected certificate) accepts; every reference digest matches; the eb:Messaging and the Body the
 * processor reads are the very elements that were signed (signature wrapping: an id-referenced element
 * moved elsewhere while a forged one takes its place, or a duplicate id, fails); and every attachment is
 * covered. Never throws for a bad message: problems are findings.
 */
export function verifyEnvelope(
  doc: Document,
  attachments: readonly Attachment[],
  options: VerifyOptions = {},
): VerifyResult {
  try {
    return verifyEnvelopeChecked(doc, attachments, options);
  } catch (error) {
    // Threat: a hostile envelope that makes a library throw (the canonicalizer on a node type it does not
    // handle, found by the fuzz suite) must be an invalid signature for every caller, not an exception.
    return {
      valid: false,
      signedParts: [],
      references: [],
      findings: [
        {
          code: 'AS4_SIG_STRUCTURE',
          message: `the signed content cannot be processed: ${(error as Error).message}`,
          severity: 'error',
        },
      ],
    };
  }
}

function verifyEnvelopeChecked(
  doc: Document,
  attachments: readonly Attachment[],
  options: VerifyOptions,
): VerifyResult {
  const findings: Finding[] = [];
  const err = (code: string, message: string) => findings.push({ code, message, severity: 'error' });
  const done = (extra: Partial<VerifyResult> = {}): VerifyResult => ({
    valid: !findings.some((f) => f.severity === 'error'),
    signedParts: [],
    references: [],
    findings,
    ...extra,
  });
  let parts: SoapParts;
  try {
    parts = locateSoapParts(doc);
  } catch (e) {
    err('AS4_SIG_STRUCTURE', (e as Error).message);
    return done();
  }
  const securities = securityHeaders(parts);
  if (securities.length === 0) {
    err('AS4_SIGNATURE_MISSING', 'no wsse:Security header');
    return done();
  }
  if (securities.length > 1)
    err('AS4_SIG_STRUCTURE', 'more than one wsse:Security header for the ultimate receiver');
  const security = securities[0]!;
  const signatures = childElements(security, NS.ds, 'Signature');
  if (signatures.length !== 1) {
    err(
      signatures.length === 0 ? 'AS4_SIGNATURE_MISSING' : 'AS4_SIG_STRUCTURE',
      `expected one ds:Signature, found ${signatures.length}`,
    );
    return done();
  }
  const signature = signatures[0]!;
  const signedInfo = childElements(signature, NS.ds, 'SignedInfo');
  const signatureValue = childElements(signature, NS.ds, 'SignatureValue');
  if (signedInfo.length !== 1 || signatureValue.length !== 1) {
    err('AS4_SIG_STRUCTURE', 'Signature needs exactly one SignedInfo and one SignatureValue');
    return done();
  }
  const si = signedInfo[0]!;
  const c14nMethod = childElements(si, NS.ds, 'CanonicalizationMethod')[0];
  const sigMethod = childElements(si, NS.ds, 'SignatureMethod')[0]?.getAttribute('Algorithm') ?? '';
  if (c14nMethod?.getAttribute('Algorithm') !== ALG.excC14n)
    err('AS4_SIG_ALGORITHM', `CanonicalizationMethod must be ${ALG.excC14n}`);
  if (!isSupportedSignatureAlgorithm(sigMethod))
    err('AS4_SIG_ALGORITHM', `SignatureMethod not supported: ${sigMethod}`);

  const byId = idIndex(doc);
  for (const [id, els] of byId)
    if (els.length > 1) err('AS4_SIG_DUPLICATE_ID', `id "${id}" occurs ${els.length} times`);

  const references: VerifiedReference[] = [];
  const signedElements = new Set<Element>();
  const signedCids = new Set<string>();
  const signedParts: string[] = [];
  const refs = childElements(si, NS.ds, 'Reference');
  if (refs.length === 0) err('AS4_SIG_STRUCTURE', 'SignedInfo has no Reference');
  for (const ref of refs) {
    const uri = ref.getAttribute('URI') ?? '';
    const transforms = transformsOf(ref);
    const digestUri = childElements(ref, NS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '';
    const digestValue = textOf(childElements(ref, NS.ds, 'DigestValue')[0] ?? ref).replace(/\s+/g, '');
    const hash = digestName(digestUri);
    if (!hash) {
      err('AS4_SIG_ALGORITHM', `DigestMethod not supported: ${digestUri} (${uri})`);
      continue;
    }
    // Canonical XML is hashed as the string (UTF-8), without a Buffer copy of it first.
    let octets: Buffer | string | undefined;
    let streamedDigest: Buffer | undefined;
    let part: string | undefined;
    let target: Element | undefined;
    if (uri.startsWith('#')) {
      const els = byId.get(uri.slice(1)) ?? [];
      if (els.length !== 1) {
        err('AS4_SIG_REFERENCE', `reference ${uri} resolves to ${els.length} elements`);
        continue;
      }
      const [t] = transforms;
      if (transforms.length !== 1 || t?.algorithm !== ALG.excC14n) {
        err('AS4_SIG_ALGORITHM', `reference ${uri}: only the exclusive C14N transform is supported`);
        continue;
      }
      target = els[0]!;
      octets = canonicalize(target, t.prefixes);
      part =
        target === parts.messaging
          ? 'Messaging'
          : target === parts.body
            ? 'Body'
            : isNs(target, NS.wsu, 'Timestamp')
              ? 'Timestamp'
              : uri;
    } else if (/^cid:/i.test(uri)) {
      const cid = contentIdFromCid(uri);
      const att = attachments.find((a) => a.contentId === cid);
      if (!att) {
        err('AS4_SIG_REFERENCE', `reference ${uri}: no such attachment`);
        continue;
      }
      if (transforms.length !== 1 || transforms[0]?.algorithm !== WSS.swaContentSignatureTransform) {
        err(
          'AS4_SIG_ALGORITHM',
          `reference ${uri}: only the SwA Attachment-Content-Signature-Transform is supported`,
        );
        continue;
      }
      try {
        // A streamed attachment is digested from its file, never loaded whole (unless XML/text: see attachmentDigest).
        if (att.stream) streamedDigest = attachmentDigest(att, hash);
        else octets = attachmentContentOctets(att.contentType, att.body);
      } catch (e) {
        err('AS4_SIG_REFERENCE', `reference ${uri}: ${(e as Error).message}`);
        continue;
      }
      part = `cid:${att.contentId}`;
    } else {
      err('AS4_SIG_REFERENCE', `unsupported reference URI "${uri}"`);
      continue;
    }
    const digest = streamedDigest ?? createHash(hash).update(octets!).digest();
    if (!sameDigest(digestValue, digest)) {
      err('AS4_SIG_DIGEST_MISMATCH', `digest of ${uri} does not match`);
      continue;
    }
    references.push({
      uri,
      transforms: transforms.map((t) => t.algorithm),
      digestMethod: digestUri,
      digestValue,
      element: ref,
    });
    if (target) signedElements.add(target);
    if (part.startsWith('cid:')) signedCids.add(part.slice(4));
    signedParts.push(part);
  }

  const known = options.expectedCertificate ? [options.expectedCertificate] : [];
  const token = resolveSigningToken(
    childElements(signature, NS.ds, 'KeyInfo')[0],
    security,
    byId,
    known,
    findings,
  );
  if (token && isSupportedSignatureAlgorithm(sigMethod)) {
    const data = Buffer.from(canonicalize(si, c14nMethod ? prefixListOf(c14nMethod) : []), 'utf8');
    const value = Buffer.from(textOf(signatureValue[0]!).replace(/\s+/g, ''), 'base64');
    if (!verifyBytes(sigMethod, token.certificate.publicKey, data, value))
      err('AS4_SIG_VALUE', 'SignatureValue does not verify');
  }
  if (token) {
    if (options.expectedCertificate && !token.certificate.raw.equals(options.expectedCertificate.raw)) {
      err(
        'AS4_SIG_UNEXPECTED_SIGNER',
        `signed by ${token.certificate.subject.replace(/\n/g, ', ')}, not by the expected certificate`,
      );
    }
    if (options.trust) {
      const path = options.trust.validate(token.certificate, {
        at: options.at ?? new Date(),
        intermediates: token.intermediates,
      });
      if (!path.valid)
        err('AS4_SIG_UNTRUSTED', `signer not trusted: ${path.findings.map((f) => f.message).join('; ')}`);
      // Threat: a certificate of another role under the same anchors (encryption-only, TSA, TLS-only, trusted
      // list signer) signing messages or receipts as if it were an access point.
      for (const f of checkCertificateRole(token.certificate, 'as4-signer', {
        tlsEkuSigners: options.tlsEkuSigners === true,
      }))
        err('AS4_SIG_SIGNER_ROLE', f.message);
    } else if (!options.expectedCertificate) {
      err('AS4_SIG_UNTRUSTED', 'neither a trust store nor an expected certificate to judge the signer by');
    }
  }

  // Coverage: what the processor will read must be what was signed.
  for (const el of signedElements) {
    if (
      (isNs(el, NS.eb, 'Messaging') && el !== parts.messaging) ||
      (el.localName === 'Body' && el.namespaceURI === parts.envelope.namespaceURI && el !== parts.body)
    ) {
      err('AS4_SIG_WRAPPING', `signed ${el.localName} is not the one the message is processed from`);
    }
  }
  if (!signedElements.has(parts.messaging)) err('AS4_SIG_NOT_COVERED', 'eb:Messaging is not signed');
  if (!signedElements.has(parts.body)) err('AS4_SIG_NOT_COVERED', 'SOAP Body is not signed');
  for (const a of attachments)
    if (!signedCids.has(a.contentId)) err('AS4_SIG_NOT_COVERED', `attachment ${a.contentId} is not signed`);
  checkTimestamp(security, signedElements, options.at ?? new Date(), findings);

  return done({
    signedParts,
    references,
    signatureAlgorithm: sigMethod,
    ...(token ? { signer: token.certificate } : {}),
  });
}

/** A wsu:Timestamp, when present, must be signed and current (a replayed old message is refused). */
function checkTimestamp(
  security: Element,
  signed: ReadonlySet<Element>,
  at: Date,
  findings: Finding[],
): void {
  const ts = childElements(security, NS.wsu, 'Timestamp');
  if (ts.length === 0) return;
  if (ts.length > 1)
    findings.push({ code: 'AS4_SIG_STRUCTURE', message: 'more than one wsu:Timestamp', severity: 'error' });
  const t = ts[0]!;
  if (!signed.has(t))
    findings.push({
      code: 'AS4_SIG_NOT_COVERED',
      message: 'wsu:Timestamp is not signed',
      severity: 'warning',
    });
  const skewMs = 300_000;
  const created = timestampTime(t, 'Created', findings);
  const expires = timestampTime(t, 'Expires', findings);
  if (created !== undefined && created > at.getTime() + skewMs) {
    findings.push({
      code: 'AS4_SIG_TIMESTAMP',
      message: 'wsu:Timestamp Created is in the future',
      severity: 'error',
    });
  }
  if (expires !== undefined && expires < at.getTime() - skewMs) {
    findings.push({ code: 'AS4_SIG_TIMESTAMP', message: 'wsu:Timestamp has expired', severity: 'error' });
  }
  if (created !== undefined && expires !== undefined && expires < created) {
    findings.push({
      code: 'AS4_SIG_TIMESTAMP',
      message: 'wsu:Timestamp Expires is before Created',
      severity: 'error',
    });
  }
}

/** xsd:dateTime with a time zone (WSS 1.1 SOAP Message Security §10: wsu:Created and wsu:Expires are xsd:dateTime, in UTC). */
const XSD_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The time of wsu:Created or wsu:Expires (ms), undefined when absent. Unparsable or repeated values are errors:
 * an unreadable date compared as NaN passed every freshness check (threat: replay of an old message).
 */
function timestampTime(
  timestamp: Element,
  name: 'Created' | 'Expires',
  findings: Finding[],
): number | undefined {
  const found = childElements(timestamp, NS.wsu, name);
  if (found.length === 0) return undefined;
  const text = textOf(found[0]!);
  const time = XSD_DATE_TIME.test(text) ? new Date(text).getTime() : Number.NaN;
  if (found.length > 1 || Number.isNaN(time)) {
    findings.push({
      code: 'AS4_SIG_TIMESTAMP',
      message: `wsu:Timestamp ${name} is not one xsd:dateTime with a time zone`,
      severity: 'error',
    });
    return undefined;
  }
  return time;
}
