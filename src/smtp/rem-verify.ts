import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { isQerdsError } from '../core/index.js';
import { createMailInteropRegistry } from '../crypto/algorithm-registry.js';
import { cmsRecipientsOf, decryptCmsDetailed } from '../crypto/decrypt-cms.js';
import type { CmsRecipientName } from '../crypto/recipient-id.js';
import type { Finding, TrustStore } from '../pki/index.js';
import { verifyDetachedCms } from '../seal/index.js';
import { PKCS7_MIME } from './rem-detect.js';

export { isRemMessage } from './rem-detect.js';

/** What the evidence verifier says about one xml_evidence part (plugged in: smtp does not judge evidence itself). */
export interface RemEvidenceCheck {
  readonly valid: boolean;
  /** One line: indication and what the evidence is. */
  readonly summary: string;
}

export interface RemVerifyOptions {
  readonly trust: TrustStore;
  readonly at?: Date;
  readonly verifyEvidence: (xml: string) => Promise<RemEvidenceCheck>;
  /** Keys of the recipient, to open an encrypted REM message (`application/pkcs7-mime`). @defaultValue none */
  readonly decryption?: readonly { readonly privateKey: KeyObject; readonly certificate: X509Certificate }[];
}

export interface RemVerification {
  readonly verdict: 'VALID' | 'INVALID';
  readonly messageType?: string;
  readonly subject?: string;
  readonly signer?: {
    readonly subject: string;
    readonly issuer: string;
    readonly serialNumber: string;
    readonly fingerprint256: string;
  };
  readonly signingTime?: Date;
  readonly evidence: readonly (RemEvidenceCheck & { readonly filename?: string })[];
  /** Whether REM-DigestValue matched the attached original (absent: no digest or no original). */
  readonly originalDigestMatches?: boolean;
  /** Present when the message was encrypted: whom for, and how it was opened (absent: it was not). */
  readonly encryption?: {
    readonly recipients: readonly CmsRecipientName[];
    readonly contentEncryption?: string;
    readonly keyManagement?: string;
  };
  /** `signed`: the REM-* headers have signed copies (RFC 9788) and the outer ones match them; `unsigned`: no copies. */
  readonly remHeaders?: 'signed' | 'unsigned';
  /** Codes of the S/MIME signature's own errors (e.g. SEAL_CERT_PATH_INVALID, SEAL_DIGEST_MISMATCH): why it failed. */
  readonly signatureFindings: readonly string[];
  /**
   * What the signed entity holds, for a receiver that acts on the message (the SMTP relay binding): its header
   * fields (lower-cased names, first occurrence; the signed copies of the REM-* headers), the decoded
   * `rem_message/original` and the `rem_message/xml_evidence` texts. Meaningful only when the verdict is VALID.
   */
  readonly signedContent?: {
    /** The certificate the S/MIME signature names (e.g. for an OCSP check of the signer). */
    readonly signerCertificate?: X509Certificate;
    readonly headers: ReadonlyMap<string, string>;
    readonly original?: Buffer;
    readonly evidenceXml: readonly string[];
  };
  readonly findings: Finding[];
}

const CRLF = '\r\n';

/**
 * Verify a REM message as a recipient's mail client holds it (.eml): the S/MIME detached CMS signature over
 * the exact bytes of the signed `multipart/mixed` entity (e-seal path to the trust store at the signing
 * time), every `rem_message/xml_evidence` part by the plugged-in evidence verifier, and REM-DigestValue
 * against the attached original. VALID only when all hold and there is at least one evidence. The outer
 * REM-* headers must equal their signed copies in the signed entity's header (RFC 9788), when it has them.
 * An encrypted message (application/pkcs7-mime, AuthEnvelopedData around the multipart/signed) is opened
 * with `decryption` keys; without one the report says whom it is encrypted for.
 */
export async function verifyRemMessage(input: Buffer, options: RemVerifyOptions): Promise<RemVerification> {
  const findings: Finding[] = [];
  const error = (code: string, message: string) => findings.push({ code, message, severity: 'error' });
  // A saved .eml may have lost its CRLFs; the signature is over the canonical (CRLF) form.
  const bytes = input.includes(Buffer.from(CRLF))
    ? input
    : Buffer.from(input.toString('latin1').replace(/\n/g, CRLF), 'latin1');
  const envelope = splitEntity(bytes);
  const messageType = envelope.headers.get('rem-messagetype');
  const subject = envelope.headers.get('subject');
  const base = { ...(messageType ? { messageType } : {}), ...(subject ? { subject } : {}) };
  let top = envelope;
  let encryption: RemVerification['encryption'];
  if (PKCS7_MIME.test(`Content-Type: ${envelope.headers.get('content-type') ?? ''}`)) {
    const opened = openEnvelope(decodeBody(envelope), options.decryption ?? []);
    encryption = opened.encryption;
    if (!opened.inner) {
      error(opened.code, opened.message);
      return { verdict: 'INVALID', ...base, evidence: [], encryption, signatureFindings: [], findings };
    }
    top = splitEntity(opened.inner);
  }
  const ct = top.headers.get('content-type') ?? '';
  if (!/^multipart\/signed/i.test(ct) || !/protocol="?application\/(x-)?pkcs7-signature/i.test(ct)) {
    error('REM_NOT_SIGNED', 'not an S/MIME multipart/signed message');
    return {
      verdict: 'INVALID',
      ...base,
      evidence: [],
      ...(encryption ? { encryption } : {}),
      signatureFindings: [],
      findings,
    };
  }
  const parts = splitMultipart(top.body, boundaryOf(ct));
  if (parts.length !== 2) {
    error('REM_MALFORMED', `multipart/signed has ${parts.length} parts, expected 2`);
    return {
      verdict: 'INVALID',
      ...base,
      evidence: [],
      ...(encryption ? { encryption } : {}),
      signatureFindings: [],
      findings,
    };
  }
  const [signed, signaturePart] = parts as [Buffer, Buffer];
  const sig = splitEntity(signaturePart);
  const cms = decodeBody(sig);
  const cades = await verifyDetachedCms(cms, {
    content: signed,
    trust: options.trust,
    ...(options.at ? { at: options.at } : {}),
  });
  if (!cades.valid)
    error(
      'REM_SIGNATURE_INVALID',
      `S/MIME signature: ${
        cades.findings
          .filter((f) => f.severity === 'error')
          .map((f) => f.message)
          .join('; ') || 'invalid'
      }`,
    );

  const mixed = splitEntity(signed);
  const remHeaders = checkProtectedHeaders(envelope, mixed, findings);
  // The signed copy is what the signature proves; the outer header is used only when there is none.
  const declaredDigest =
    remHeaders === 'signed' ? mixed.headers.get('rem-digestvalue') : envelope.headers.get('rem-digestvalue');
  const sections = /^multipart\//i.test(mixed.headers.get('content-type') ?? '')
    ? splitMultipart(mixed.body, boundaryOf(mixed.headers.get('content-type')!)).map(splitEntity)
    : [];
  const evidence: (RemEvidenceCheck & { filename?: string })[] = [];
  const evidenceXml: string[] = [];
  let original: Buffer | undefined;
  let originalDigestMatches: boolean | undefined;
  for (const section of sections) {
    const kind = section.headers.get('rem-section-type');
    if (kind === 'rem_message/xml_evidence') {
      const filename = /filename="?([^";]+)"?/i.exec(section.headers.get('content-disposition') ?? '')?.[1];
      const xml = decodeBody(section).toString('utf8');
      evidenceXml.push(xml);
      const check = await options.verifyEvidence(xml);
      evidence.push({ ...check, ...(filename ? { filename } : {}) });
      if (!check.valid) error('REM_EVIDENCE_INVALID', `${filename ?? 'evidence'}: ${check.summary}`);
    } else if (kind === 'rem_message/original') {
      original ??= decodeBody(section);
      if (declaredDigest) {
        originalDigestMatches =
          createHash('sha256').update(decodeBody(section)).digest('base64') === declaredDigest.trim();
        if (!originalDigestMatches)
          error('REM_DIGEST_MISMATCH', 'REM-DigestValue does not match the attached original');
      }
    }
  }
  if (evidence.length === 0)
    error('REM_NO_EVIDENCE', 'no rem_message/xml_evidence part in the signed content');
  return {
    verdict: findings.some((f) => f.severity === 'error') ? 'INVALID' : 'VALID',
    ...base,
    ...(cades.signer ? { signer: summary(cades.signer) } : {}),
    ...(cades.signingTime ? { signingTime: cades.signingTime } : {}),
    evidence,
    ...(originalDigestMatches === undefined ? {} : { originalDigestMatches }),
    ...(encryption ? { encryption } : {}),
    remHeaders,
    signatureFindings: cades.findings.filter((f) => f.severity === 'error').map((f) => f.code),
    signedContent: {
      ...(cades.signer ? { signerCertificate: cades.signer } : {}),
      headers: mixed.headers,
      ...(original ? { original } : {}),
      evidenceXml,
    },
    findings,
  };
}

type Opened =
  | { readonly inner: Buffer; readonly encryption: NonNullable<RemVerification['encryption']> }
  | {
      readonly inner?: undefined;
      readonly encryption: NonNullable<RemVerification['encryption']>;
      readonly code: string;
      readonly message: string;
    };

/**
 * An encrypted REM message (RFC 8551 signed-then-enveloped): the CMS AuthEnvelopedData (AES-GCM) or
 * EnvelopedData (AES-256-CBC, the form mail clients open: see rem-encrypt.ts) opened with the first key it
 * is addressed to. Without such a key the answer says whom it is encrypted for.
 */
function openEnvelope(cms: Buffer, keys: NonNullable<RemVerifyOptions['decryption']>): Opened {
  // The mail-interop allowance (CBC, PKCS#1 v1.5) applies to REM mail only; the signature inside is what
  // protects the content's integrity, and it is verified next.
  const registry = createMailInteropRegistry();
  let recipients: CmsRecipientName[];
  try {
    recipients = cmsRecipientsOf(cms);
  } catch (e) {
    const message = isQerdsError(e) ? e.message : String(e);
    return {
      encryption: { recipients: [] },
      code: 'REM_ENCRYPTION_UNSUPPORTED',
      message: `encrypted, but not as (Auth)EnvelopedData we can read: ${message}`,
    };
  }
  const forWhom = recipients.map(recipientWords).join('; ');
  if (keys.length === 0) {
    return {
      encryption: { recipients },
      code: 'REM_ENCRYPTED',
      message: `the message is encrypted for ${forWhom}: give the recipient's key and certificate to verify it`,
    };
  }
  for (const key of keys) {
    try {
      const opened = decryptCmsDetailed(cms, { ...key, registry });
      return {
        inner: opened.plaintext,
        encryption: {
          recipients,
          contentEncryption: opened.contentEncryption,
          keyManagement: opened.keyManagement,
        },
      };
    } catch (e) {
      if (isQerdsError(e) && e.code === 'CRYPTO_NO_MATCHING_RECIPIENT') continue;
      return {
        encryption: { recipients },
        code: 'REM_DECRYPT_FAILED',
        message: `decryption failed: ${isQerdsError(e) ? e.message : String(e)}`,
      };
    }
  }
  return {
    encryption: { recipients },
    code: 'REM_ENCRYPTED',
    message: `the message is encrypted for ${forWhom}, not for the certificate given`,
  };
}

function recipientWords(r: CmsRecipientName): string {
  if (r.subjectKeyIdentifier) return `key id ${r.subjectKeyIdentifier}`;
  return r.issuer ? `serial ${r.serialNumber} of ${r.issuer}` : 'an unnamed recipient';
}

/** Header fields that are not content headers: those a signed copy protects (RFC 9788 §2). */
const isProtectable = (name: string) => !name.startsWith('content-') && name !== 'mime-version';

/**
 * RFC 9788 header protection of the REM metadata: when the signed entity repeats the REM-* headers, every
 * protected field in the outer header must equal its signed copy, and every outer REM-* field must have
 * one. Threat: a REM header changed or added in transit, outside the signature. Messages from providers
 * without signed copies get a warning: their REM-* headers are reported, not proven.
 */
function checkProtectedHeaders(outer: Entity, signed: Entity, findings: Finding[]): 'signed' | 'unsigned' {
  const copies = signed.fields.filter((f) => isProtectable(f.name));
  if (!copies.some((f) => f.name.startsWith('rem-'))) {
    findings.push({
      code: 'REM_HEADERS_UNSIGNED',
      message: 'the REM-* headers have no signed copy: they are reported, not proven',
      severity: 'warning',
    });
    return 'unsigned';
  }
  const signedNames = new Set(copies.map((f) => f.name));
  const outerNames = new Set(
    outer.fields.filter((f) => signedNames.has(f.name) || f.name.startsWith('rem-')).map((f) => f.name),
  );
  for (const name of outerNames) {
    const outside = outer.fields.filter((f) => f.name === name);
    const inside = copies.filter((f) => f.name === name);
    const label = outside[0]!.label;
    if (inside.length === 0) {
      findings.push({
        code: 'REM_HEADER_UNSIGNED',
        message: `${label} is not among the signed REM headers (added outside the signature)`,
        severity: 'error',
      });
    } else if (outside.map((f) => f.value).join('\n') !== inside.map((f) => f.value).join('\n')) {
      findings.push({
        code: 'REM_HEADER_TAMPERED',
        message: `${label}: "${outside.map((f) => f.value).join(', ')}" differs from the signed "${inside.map((f) => f.value).join(', ')}"`,
        severity: 'error',
      });
    }
  }
  return 'signed';
}

/** The report in words, first line the verdict. */
export function formatRemReport(r: RemVerification): string {
  return [
    `${r.verdict}: REM message${r.messageType ? ` (${r.messageType})` : ''}${r.subject ? ` "${r.subject}"` : ''}`,
    ...(r.signer
      ? [`  signed by ${r.signer.subject}${r.signingTime ? ` at ${r.signingTime.toISOString()}` : ''}`]
      : []),
    ...r.evidence.map((e) => `  evidence ${e.filename ?? ''}: ${e.summary}`),
    ...(r.originalDigestMatches === undefined
      ? []
      : [`  original: REM-DigestValue ${r.originalDigestMatches ? 'matches' : 'DOES NOT match'}`]),
    ...(r.remHeaders === 'signed' ? ['  REM headers: signed copies match'] : []),
    ...(r.encryption?.contentEncryption
      ? [
          `  encrypted: ${r.encryption.contentEncryption} with ${r.encryption.keyManagement ?? '?'}, opened with the recipient's key`,
        ]
      : []),
    ...r.findings.map((f) => `  ${f.severity}: ${f.code}: ${f.message}`),
  ].join('\n');
}

function summary(c: X509Certificate) {
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serialNumber: c.serialNumber,
    fingerprint256: c.fingerprint256,
  };
}

interface HeaderField {
  /** Lower-cased name. */
  readonly name: string;
  /** The name as written. */
  readonly label: string;
  /** Unfolded, runs of white space as one space, trimmed: what survives an MTA's re-folding. */
  readonly value: string;
}

interface Entity {
  readonly headers: Map<string, string>;
  /** Every field, in order (a header may occur more than once). */
  readonly fields: readonly HeaderField[];
  readonly body: Buffer;
}

/** Header section (unfolded; first occurrence of each name, lower-cased) and body of a MIME entity. */
function splitEntity(bytes: Buffer): Entity {
  const end = bytes.indexOf('\r\n\r\n');
  const head = end < 0 ? bytes.toString('latin1') : bytes.subarray(0, end).toString('latin1');
  const headers = new Map<string, string>();
  const fields: HeaderField[] = [];
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const label = line.slice(0, colon).trim();
    const name = label.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (!headers.has(name)) headers.set(name, value);
    fields.push({ name, label, value: value.replace(/[ \t]+/g, ' ') });
  }
  return { headers, fields, body: end < 0 ? Buffer.alloc(0) : bytes.subarray(end + 4) };
}

function boundaryOf(contentType: string): string {
  return /boundary="([^"]+)"|boundary=([^;\s]+)/i.exec(contentType)?.slice(1).find(Boolean) ?? '';
}

/**
 * The parts of a multipart body, byte-exact (RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the
 * delimiter): what a signature over a part covers.
 */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  if (!boundary) return [];
  const delimiter = `--${boundary}`;
  const first =
    body.subarray(0, delimiter.length).toString('latin1') === delimiter
      ? 0
      : body.indexOf(`${CRLF}${delimiter}`);
  if (first < 0) return [];
  // The end of a delimiter line: where the next part starts. Threat: a delimiter line with no CRLF after it made
  // indexOf's -1 into "start at offset 1", so the loop found the first delimiter again and again, pushing parts
  // until the heap was gone (4 GB, from one mutated mail of the fuzz suite). No CRLF: no further part.
  const lineEnd = (from: number): number | undefined => {
    const at = body.indexOf(CRLF, from);
    return at < 0 ? undefined : at + 2;
  };
  let start = lineEnd(first + (first === 0 ? 0 : 2));
  const parts: Buffer[] = [];
  while (start !== undefined) {
    const next = body.indexOf(`${CRLF}${delimiter}`, start);
    if (next < 0) return parts;
    parts.push(body.subarray(start, next));
    const after = next + 2 + delimiter.length;
    if (body.subarray(after, after + 2).toString('latin1') === '--') return parts;
    start = lineEnd(after);
  }
  return parts;
}

function decodeBody(e: Entity): Buffer {
  const cte = (e.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return cte === 'base64'
    ? Buffer.from(e.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')
    : e.body;
}
