import { createHash, type X509Certificate } from 'node:crypto';
import type { Finding, TrustStore } from '../pki/index.js';
import { verifyDetachedCms } from '../seal/index.js';

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
}

export interface RemVerification {
  readonly verdict: 'VALID' | 'INVALID';
  readonly messageType?: string;
  readonly subject?: string;
  readonly signer?: { readonly subject: string; readonly issuer: string; readonly serialNumber: string; readonly fingerprint256: string };
  readonly signingTime?: Date;
  readonly evidence: readonly (RemEvidenceCheck & { readonly filename?: string })[];
  /** Whether REM-DigestValue matched the attached original (absent: no digest or no original). */
  readonly originalDigestMatches?: boolean;
  readonly findings: Finding[];
}

const CRLF = '\r\n';

/** A REM message (EN 319 532-3) is RFC 5322 with REM-* metadata headers: recognised by its header section alone. */
export function isRemMessage(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 65536).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headers = end < 0 ? head : head.slice(0, end);
  return /^REM-MetadataVersion:/im.test(headers) && /^Content-Type:\s*multipart\/signed/im.test(headers);
}

/**
 * Verify a REM message as a recipient's mail client holds it (.eml): the S/MIME detached CMS signature over
 * the exact bytes of the signed `multipart/mixed` entity (e-seal path to the trust store at the signing
 * time), every `rem_message/xml_evidence` part by the plugged-in evidence verifier, and REM-DigestValue
 * against the attached original. VALID only when all hold and there is at least one evidence. The
 * outer REM-* headers are not signed: they are reported, the verdict rests on the signed parts.
 */
export async function verifyRemMessage(input: Buffer, options: RemVerifyOptions): Promise<RemVerification> {
  const findings: Finding[] = [];
  const error = (code: string, message: string) => findings.push({ code, message, severity: 'error' });
  // A saved .eml may have lost its CRLFs; the signature is over the canonical (CRLF) form.
  const bytes = input.includes(Buffer.from(CRLF)) ? input : Buffer.from(input.toString('latin1').replace(/\n/g, CRLF), 'latin1');
  const top = splitEntity(bytes);
  const messageType = top.headers.get('rem-messagetype');
  const subject = top.headers.get('subject');
  const base = { ...(messageType ? { messageType } : {}), ...(subject ? { subject } : {}) };
  const ct = top.headers.get('content-type') ?? '';
  if (!/^multipart\/signed/i.test(ct) || !/protocol="?application\/(x-)?pkcs7-signature/i.test(ct)) {
    error('REM_NOT_SIGNED', 'not an S/MIME multipart/signed message');
    return { verdict: 'INVALID', ...base, evidence: [], findings };
  }
  const parts = splitMultipart(top.body, boundaryOf(ct));
  if (parts.length !== 2) {
    error('REM_MALFORMED', `multipart/signed has ${parts.length} parts, expected 2`);
    return { verdict: 'INVALID', ...base, evidence: [], findings };
  }
  const [signed, signaturePart] = parts as [Buffer, Buffer];
  const sig = splitEntity(signaturePart);
  const cms = decodeBody(sig);
  const cades = await verifyDetachedCms(cms, { content: signed, trust: options.trust, ...(options.at ? { at: options.at } : {}) });
  if (!cades.valid) error('REM_SIGNATURE_INVALID', `S/MIME signature: ${cades.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('; ') || 'invalid'}`);

  const mixed = splitEntity(signed);
  const sections = /^multipart\//i.test(mixed.headers.get('content-type') ?? '') ? splitMultipart(mixed.body, boundaryOf(mixed.headers.get('content-type')!)).map(splitEntity) : [];
  const evidence: (RemEvidenceCheck & { filename?: string })[] = [];
  let originalDigestMatches: boolean | undefined;
  for (const section of sections) {
    const kind = section.headers.get('rem-section-type');
    if (kind === 'rem_message/xml_evidence') {
      const filename = /filename="?([^";]+)"?/i.exec(section.headers.get('content-disposition') ?? '')?.[1];
      const check = await options.verifyEvidence(decodeBody(section).toString('utf8'));
      evidence.push({ ...check, ...(filename ? { filename } : {}) });
      if (!check.valid) error('REM_EVIDENCE_INVALID', `${filename ?? 'evidence'}: ${check.summary}`);
    } else if (kind === 'rem_message/original') {
      const declared = top.headers.get('rem-digestvalue');
      if (declared) {
        originalDigestMatches = createHash('sha256').update(decodeBody(section)).digest('base64') === declared.trim();
        if (!originalDigestMatches) error('REM_DIGEST_MISMATCH', 'REM-DigestValue does not match the attached original');
      }
    }
  }
  if (evidence.length === 0) error('REM_NO_EVIDENCE', 'no rem_message/xml_evidence part in the signed content');
  return {
    verdict: findings.some((f) => f.severity === 'error') ? 'INVALID' : 'VALID',
    ...base,
    ...(cades.signer ? { signer: summary(cades.signer) } : {}),
    ...(cades.signingTime ? { signingTime: cades.signingTime } : {}),
    evidence,
    ...(originalDigestMatches === undefined ? {} : { originalDigestMatches }),
    findings,
  };
}

/** The report in words, first line the verdict. */
export function formatRemReport(r: RemVerification): string {
  return [
    `${r.verdict}: REM message${r.messageType ? ` (${r.messageType})` : ''}${r.subject ? ` "${r.subject}"` : ''}`,
    ...(r.signer ? [`  signed by ${r.signer.subject}${r.signingTime ? ` at ${r.signingTime.toISOString()}` : ''}`] : []),
    ...r.evidence.map((e) => `  evidence ${e.filename ?? ''}: ${e.summary}`),
    ...(r.originalDigestMatches === undefined ? [] : [`  original: REM-DigestValue ${r.originalDigestMatches ? 'matches' : 'DOES NOT match'}`]),
    ...r.findings.map((f) => `  ${f.severity}: ${f.code}: ${f.message}`),
  ].join('\n');
}

function summary(c: X509Certificate) {
  return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), serialNumber: c.serialNumber, fingerprint256: c.fingerprint256 };
}

interface Entity {
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

/** Header section (unfolded; first occurrence of each name, lower-cased) and body of a MIME entity. */
function splitEntity(bytes: Buffer): Entity {
  const end = bytes.indexOf('\r\n\r\n');
  const head = end < 0 ? bytes.toString('latin1') : bytes.subarray(0, end).toString('latin1');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: end < 0 ? Buffer.alloc(0) : bytes.subarray(end + 4) };
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
  const first = body.subarray(0, delimiter.length).toString('latin1') === delimiter ? 0 : body.indexOf(`${CRLF}${delimiter}`);
  if (first < 0) return [];
  let start = body.indexOf(CRLF, first + (first === 0 ? 0 : 2)) + 2;
  const parts: Buffer[] = [];
  for (;;) {
    const next = body.indexOf(`${CRLF}${delimiter}`, start);
    if (next < 0) return parts;
    parts.push(body.subarray(start, next));
    const after = next + 2 + delimiter.length;
    if (body.subarray(after, after + 2).toString('latin1') === '--') return parts;
    start = body.indexOf(CRLF, after) + 2;
  }
}

function decodeBody(e: Entity): Buffer {
  const cte = (e.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return cte === 'base64' ? Buffer.from(e.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : e.body;
}
