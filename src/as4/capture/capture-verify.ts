import type { X509Certificate } from 'node:crypto';
import { isQerdsError } from '../../core/index.js';
import { revocationUnknown } from '../../pki/revocation-status.js';
import type { Finding } from '../../pki/types.js';
import { decryptAttachments } from '../security/attachment-encryption.js';
import { parseCapture } from './capture-parse.js';
import { COMPRESSION_TYPE_PROPERTY } from '../message/compression.js';
import { parseEnvelope } from '../message/envelope-parse.js';
import { parseContentType } from '../message/mime-content-type.js';
import { contentIdFromCid } from '../message/multipart.js';
import { decodeMultipart } from '../message/multipart-stream.js';
import { NS } from '../model/namespaces.js';
import type { As4CaptureOptions, As4CaptureReport, Attachment, SoapVersion } from '../model/types.js';
import { verifyEnvelope } from '../security/ws-security-verify.js';
import { allElements, assertNoProcessingInstructions, parseXml } from '../message/xml-util.js';
import { childElements } from '../../xml/index.js';

function certificateSummary(c: NonNullable<ReturnType<typeof verifyEnvelope>['signer']>) {
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serialNumber: c.serialNumber,
    validFrom: c.validFrom,
    validTo: c.validTo,
    fingerprint256: c.fingerprint256,
  };
}

/** How the signature's KeyInfo names its key: what operators compare across products. */
function keyReferenceOf(doc: Document): string | undefined {
  const sig = allElements(doc).find((e) => e.namespaceURI === NS.ds && e.localName === 'Signature');
  const keyInfo = sig ? childElements(sig, NS.ds, 'KeyInfo')[0] : undefined;
  if (!keyInfo) return undefined;
  const str = childElements(keyInfo, NS.wsse, 'SecurityTokenReference')[0];
  if (str) {
    if (childElements(str, NS.wsse, 'Reference')[0]) return 'BinarySecurityToken reference';
    const kid = childElements(str, NS.wsse, 'KeyIdentifier')[0];
    if (kid) return `KeyIdentifier ${(kid.getAttribute('ValueType') ?? '').split('#').pop() ?? ''}`;
    const data = childElements(str, NS.ds, 'X509Data')[0];
    if (data) return `X509Data/${childElements(data)[0]?.localName ?? '?'}`;
  }
  const data = childElements(keyInfo, NS.ds, 'X509Data')[0];
  return data ? `X509Data/${childElements(data)[0]?.localName ?? '?'}` : childElements(keyInfo)[0]?.localName;
}

/**
 * Check a captured AS4 exchange from the bytes alone: an HTTP dump with headers, a MIME message (with its
 * Content-Type line) or a bare SOAP envelope. Decrypts attachments when keys are given, verifies the
 * WS-Security signature over every signed part (the same verifier the AP uses, so signature wrapping,
 * duplicate ids and uncovered parts fail), parses the ebMS header, and returns what it found with a
 * verdict: VALID only when the signature verifies with a trusted (or the expected) signer and the
 * header is a well-formed AS4 message. Never throws for bad input: problems are findings.
 */
export function verifyAs4Capture(bytes: Buffer, options: As4CaptureOptions = {}): As4CaptureReport {
  const findings: Finding[] = [];
  const error = (code: string, message: string) => findings.push({ code, message, severity: 'error' });
  const report: { -readonly [K in keyof As4CaptureReport]: As4CaptureReport[K] } = {
    verdict: 'INVALID',
    container: 'soap',
    payloads: [],
    findings,
  };
  let envelopeXml: string;
  let attachments: Attachment[] = [];
  try {
    const capture = parseCapture(bytes);
    report.container = capture.kind;
    if (capture.startLine) report.httpStartLine = capture.startLine;
    if (capture.alreadyDechunked)
      findings.push({
        code: 'AS4_CAPTURE_DECHUNKED',
        severity: 'info',
        message:
          'Transfer-Encoding: chunked in the headers, but the body was stored de-chunked: read as it is',
      });
    const media = capture.contentType ? parseContentType(capture.contentType).mediaType : undefined;
    if (media === 'multipart/related') {
      const decoded = decodeMultipart(capture.contentType!, capture.body);
      envelopeXml = decoded.envelope;
      attachments = decoded.attachments;
    } else {
      envelopeXml = new TextDecoder('utf-8', { fatal: true }).decode(capture.body);
    }
  } catch (e) {
    error(isQerdsError(e) ? e.code : 'AS4_CAPTURE_UNREADABLE', (e as Error).message);
    return report;
  }
  let doc: Document;
  try {
    doc = parseXml(envelopeXml);
    assertNoProcessingInstructions(doc);
  } catch (e) {
    error(isQerdsError(e) ? e.code : 'AS4_EBMS_0009', (e as Error).message);
    return report;
  }
  const ns = doc.documentElement?.namespaceURI;
  if (ns === NS.soap12 || ns === NS.soap11)
    report.soapVersion = (ns === NS.soap12 ? '1.2' : '1.1') as SoapVersion;

  let plain = attachments;
  let encrypted: readonly string[] = [];
  const hasEncryptedData = allElements(doc).some(
    (e) => e.namespaceURI === NS.xenc && e.localName === 'EncryptedData',
  );
  if (hasEncryptedData && options.decryptionKeys?.length) {
    try {
      const d = decryptAttachments(doc, attachments, options.decryptionKeys);
      plain = d.attachments;
      encrypted = d.encrypted;
    } catch (e) {
      error(isQerdsError(e) ? e.code : 'AS4_EBMS_0102', (e as Error).message);
    }
  }
  // Without the recipient key an encrypted attachment's signature reference (over the plaintext) cannot be
  // computed: "not checked" (INDETERMINATE), never "digest does not match" or "not signed".
  const unreadable =
    hasEncryptedData && !options.decryptionKeys?.length ? encryptedCids(doc) : new Set<string>();

  // A capture may come from any AS4 network: Peppol AP certificates sign with TLS extended key usages.
  const v = verifyEnvelope(doc, plain, {
    tlsEkuSigners: true,
    ...(options.trust ? { trust: options.trust } : {}),
    ...(options.expectedCertificate ? { expectedCertificate: options.expectedCertificate } : {}),
    ...(options.at ? { at: options.at } : {}),
  });
  const notChecked = new Set<string>();
  const outOfBounds =
    v.signer && options.trust
      ? outOfBoundsOnly(options.trust, v.signer, options.at ?? new Date())
      : undefined;
  for (const f of v.findings) {
    if (f.code === 'AS4_SIG_UNTRUSTED' && outOfBounds) {
      findings.push({
        code: 'SIGNER_OUT_OF_BOUNDS_NO_POE',
        severity: 'error',
        message: `${outOfBounds}; nothing in a capture proves it was signed earlier (its eb:Timestamp is the signer's own claim): judge it at the time it was sent with --at`,
      });
      continue;
    }
    const cid =
      /\bcid:(\S+?)(?::|\s|$)/i.exec(f.message)?.[1] ??
      /^attachment (\S+) is not signed$/.exec(f.message)?.[1];
    if (
      cid &&
      unreadable.has(cid) &&
      ['AS4_SIG_DIGEST_MISMATCH', 'AS4_SIG_REFERENCE', 'AS4_SIG_NOT_COVERED'].includes(f.code)
    )
      notChecked.add(cid);
    // Distinguished names on one line (X509Certificate#subject has one RDN a line).
    else findings.push({ ...f, message: f.message.replace(/\n/g, ', ') });
  }
  for (const cid of notChecked) {
    findings.push({
      code: 'AS4_ATTACHMENT_NOT_CHECKED',
      severity: 'error',
      message: `attachment cid:${cid} is encrypted and no key was given (--decrypt-key/--decrypt-cert): its signature reference was not checked`,
    });
  }
  // EN 319 102-1: a signer whose revocation status cannot be established is not VALID but INDETERMINATE.
  if (v.signer && options.trust && !v.findings.some((f) => f.code === 'AS4_SIG_UNTRUSTED')) {
    const path = options.trust.validate(v.signer, { at: options.at ?? new Date() });
    if (path.valid) findings.push(...revocationUnknown(path.findings, v.signer, 'AS4 signer'));
  }
  report.signature = {
    ...(v.signatureAlgorithm ? { algorithm: v.signatureAlgorithm } : {}),
    ...(keyReferenceOf(doc) ? { keyReference: keyReferenceOf(doc)! } : {}),
    references: v.references.map((r) => ({
      uri: r.uri,
      digestMethod: r.digestMethod,
      transforms: r.transforms,
    })),
    signedParts: v.signedParts,
    ...(v.signer ? { signer: certificateSummary(v.signer) } : {}),
  };

  try {
    const parsed = parseEnvelope(doc);
    if (parsed.kind === 'user') {
      const m = parsed.message;
      Object.assign(report, {
        messageType: 'UserMessage',
        messageId: m.messageId,
        timestamp: m.timestamp.toISOString(),
        ...(m.refToMessageId ? { refToMessageId: m.refToMessageId } : {}),
        from: m.from,
        to: m.to,
        collaboration: m.collaboration,
      });
      report.payloads = m.payloads.map((p) => {
        const cid = contentIdFromCid(p.href);
        const att = plain.find((a) => a.contentId === cid);
        return {
          href: p.href,
          mimeType: p.mimeType,
          ...(att ? { size: att.body.length } : {}),
          compressed: p.properties.some((q) => q.name === COMPRESSION_TYPE_PROPERTY),
          encrypted: cid !== undefined && encrypted.includes(cid),
        };
      });
    } else if (parsed.kind === 'receipt') {
      const r = parsed.receipt;
      Object.assign(report, {
        messageType: 'Receipt',
        messageId: r.messageId,
        timestamp: r.timestamp.toISOString(),
        refToMessageId: r.refToMessageId,
        receipt: { nonRepudiation: r.nonRepudiation.map((x) => x.uri) },
      });
    } else if (parsed.kind === 'pull') {
      Object.assign(report, {
        messageType: 'PullRequest',
        messageId: parsed.signal.messageId,
        timestamp: parsed.signal.timestamp.toISOString(),
        mpc: parsed.mpc,
      });
    } else {
      Object.assign(report, {
        messageType: 'Error',
        messageId: parsed.signal.messageId,
        timestamp: parsed.signal.timestamp.toISOString(),
        ...(parsed.signal.refToMessageId ? { refToMessageId: parsed.signal.refToMessageId } : {}),
        errors: parsed.errors,
      });
    }
  } catch (e) {
    error(isQerdsError(e) ? e.code : 'AS4_EBMS_0009', (e as Error).message);
  }
  const errors = findings.filter((f) => f.severity === 'error');
  report.verdict = errors.some((f) => !INDETERMINATE_CODES.has(f.code))
    ? 'INVALID'
    : errors.length > 0
      ? 'INDETERMINATE'
      : 'VALID';
  return report;
}

/** Checks that could not run (no key, no revocation data, no proof of time): the verdict is INDETERMINATE, not INVALID. */
const INDETERMINATE_CODES = new Set([
  'AS4_ATTACHMENT_NOT_CHECKED',
  'SIGNER_REVOCATION_UNKNOWN',
  'SIGNER_OUT_OF_BOUNDS_NO_POE',
]);

/**
 * EN 319 102-1 §5.2.6 (as evidence/indication.ts maps it): a signer whose path to an anchor is sound but one
 * certificate of which is expired or not yet valid at the validation time is INDETERMINATE/OUT_OF_BOUNDS_NO_POE,
 * not a failure, when nothing proves the signature older. Returns the validity messages when that is the only
 * fault of the path; undefined when the path is valid or fails for any other reason (those stay INVALID).
 */
function outOfBoundsOnly(
  trust: NonNullable<As4CaptureOptions['trust']>,
  signer: X509Certificate,
  at: Date,
): string | undefined {
  const path = trust.validate(signer, { at });
  const errors = path.findings.filter((f) => f.severity === 'error');
  if (
    path.valid ||
    path.path.length === 0 ||
    errors.length === 0 ||
    !errors.every((f) => f.code === 'PKI_CERT_EXPIRED' || f.code === 'PKI_CERT_NOT_YET_VALID')
  )
    return undefined;
  return errors.map((f) => f.message.replace(/\n/g, ', ')).join('; ');
}

/** Content-IDs of the attachments an xenc:EncryptedData replaces (CipherReference URI="cid:…"). */
function encryptedCids(doc: Document): Set<string> {
  const out = new Set<string>();
  for (const el of allElements(doc)) {
    if (el.namespaceURI !== NS.xenc || el.localName !== 'CipherReference') continue;
    const cid = contentIdFromCid(el.getAttribute('URI') ?? '');
    if (cid) out.add(cid);
  }
  return out;
}

/** `…/xml-exc-c14n#` → `xml-exc-c14n`, `…#sha256` → `sha256`. */
function shortAlgorithm(uri: string): string {
  const trimmed = uri.replace(/#$/, '');
  return trimmed.slice(Math.max(trimmed.lastIndexOf('#'), trimmed.lastIndexOf('/')) + 1);
}

/** The report as text for a terminal: what was found, then the verdict on the last line. */
export function formatAs4CaptureReport(r: As4CaptureReport): string {
  const lines: string[] = [];
  lines.push(
    `container:     ${r.container}${r.httpStartLine ? ` (${r.httpStartLine})` : ''}${r.soapVersion ? `, SOAP ${r.soapVersion}` : ''}`,
  );
  if (r.messageType)
    lines.push(
      `message:       ${r.messageType} ${r.messageId ?? ''}${r.timestamp ? ` at ${r.timestamp}` : ''}`,
    );
  if (r.mpc) lines.push(`MPC:           ${r.mpc}`);
  if (r.refToMessageId) lines.push(`refers to:     ${r.refToMessageId}`);
  if (r.from && r.to)
    lines.push(`parties:       ${r.from.partyId} (${r.from.role}) → ${r.to.partyId} (${r.to.role})`);
  if (r.collaboration)
    lines.push(`service:       ${r.collaboration.service} / action ${r.collaboration.action}`);
  for (const p of r.payloads)
    lines.push(
      `payload:       ${p.href} ${p.mimeType}${p.size !== undefined ? `, ${p.size} bytes` : ''}${p.compressed ? ', gzip' : ''}${p.encrypted ? ', encrypted' : ''}`,
    );
  if (r.receipt)
    lines.push(
      `receipt NRI:   ${r.receipt.nonRepudiation.length ? r.receipt.nonRepudiation.join(', ') : '(no NonRepudiationInformation)'}`,
    );
  for (const e of r.errors ?? [])
    lines.push(`ebMS error:    ${e.errorCode} ${e.shortDescription ?? ''} ${e.errorDetail ?? ''}`.trimEnd());
  const s = r.signature;
  if (s?.algorithm)
    lines.push(`signature:     ${s.algorithm}${s.keyReference ? `, key by ${s.keyReference}` : ''}`);
  if (s?.signer)
    lines.push(
      `signer:        ${s.signer.subject} (issuer ${s.signer.issuer}, serial ${s.signer.serialNumber}, valid to ${s.signer.validTo})`,
    );
  for (const ref of s?.references ?? [])
    lines.push(
      `signed:        ${ref.uri} [${ref.transforms.map(shortAlgorithm).join(', ')}; ${shortAlgorithm(ref.digestMethod)}]`,
    );
  for (const f of r.findings) lines.push(`${f.severity.padEnd(8)}       ${f.code}: ${f.message}`);
  lines.push(`verdict:       ${r.verdict}`);
  return lines.join('\n');
}
