import type { PayloadPart, ReasonCode } from '../core/index.js';
import type { Finding, TrustStore } from '../pki/index.js';
import { verifyDetachedCms, verifyXadesDocument, verifyXmlSeal } from '../seal/index.js';

/**
 * Which seal the sender (C1) put on its own content (forwarded use): `xades`, an enveloped XAdES seal in
 * the first part (XML); `cades`, a detached CAdES signature (DER CMS SignedData, e.g. `openssl cms -sign
 * -binary -cades`) in the last part over the first part.
 */
export type SenderSealKind = 'xades' | 'cades';

export type SenderSealOutcome =
  | { readonly ok: true; readonly summary: string }
  | { readonly ok: false; readonly reason: { readonly code: ReasonCode; readonly details: string } };

/** Largest sealed XML read into memory to verify its seal, in bytes (the detached CAdES case reads only the signature). */
export const SENDER_SEAL_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Forwarded use at intake (C2): the sender sealed its content itself so that the recipient can prove the
 * document's origin to third parties, without the APs. C2 verifies that seal against its trust store at
 * intake time (path, validity, CRL) and either records the result in the SubmissionAcceptance (RA01
 * details) or refuses the submission. The content is not touched: C2 relays the very bytes C1 sealed.
 *
 * Why refuse rather than relay with a warning: the recipient relies on the seal to hand the document on;
 * a seal that already fails at C2 would fail in the third party's hands, after the sender was told "accepted".
 */
export async function checkSenderSeal(
  kind: SenderSealKind,
  parts: readonly PayloadPart[],
  read: (part: PayloadPart) => Promise<Buffer>,
  options: { readonly trust: TrustStore; readonly now: Date },
): Promise<SenderSealOutcome> {
  const content = parts[0];
  if (!content) return refuse('RA02', 'no content to verify the sender seal on');
  if (kind === 'xades') {
    if (!/xml/i.test(content.contentType))
      return refuse('RA02', `the XAdES-sealed part ${content.partId} is ${content.contentType}, not XML`);
    if (content.size > SENDER_SEAL_MAX_BYTES)
      return refuse('RA02', `the XAdES-sealed part is larger than ${SENDER_SEAL_MAX_BYTES} bytes`);
    const xml = (await read(content)).toString('utf8');
    const verification = await verifyXmlSeal(xml, { trust: options.trust, at: options.now });
    if (verification.valid)
      return {
        ok: true,
        summary: `sender XAdES seal (${verification.level}) on ${content.partId} by ${subjectOf(verification.signer)} verified at intake`,
      };
    // Not our own profile (an EU DSS or xadesjs signature, other transforms or C14N): judged by EN 319 132 itself.
    const foreign = await verifyXadesDocument(xml, { trust: options.trust, at: options.now });
    if (foreign.indication !== 'TOTAL-PASSED')
      return { ok: false, reason: sealRejection('sender XAdES seal', foreign.findings) };
    const first = foreign.signatures[0];
    return {
      ok: true,
      summary: `sender XAdES seal (${first?.level ?? '?'}) on ${content.partId} by ${subjectOf(first?.signer)} verified at intake`,
    };
  }
  const signature = parts.length >= 2 ? parts[parts.length - 1]! : undefined;
  if (!signature)
    return refuse(
      'RA02',
      'a CAdES-sealed submission needs the content first and the detached signature (DER) last',
    );
  if (signature.size > SENDER_SEAL_MAX_BYTES)
    return refuse('RA02', `the CAdES signature part is larger than ${SENDER_SEAL_MAX_BYTES} bytes`);
  // The content's digest is the blob's address: the signature is checked without reading the content again.
  const verification = await verifyDetachedCms(await read(signature), {
    content: { sha256: Buffer.from(content.sha256, 'hex') },
    trust: options.trust,
    at: options.now,
  });
  if (!verification.valid)
    return { ok: false, reason: sealRejection('sender CAdES seal', verification.findings) };
  return {
    ok: true,
    summary: `sender CAdES seal (${verification.level}) in ${signature.partId} over ${content.partId} by ${subjectOf(verification.signer)} verified at intake`,
  };
}

/**
 * The SubmissionRejection reason for a seal that does not verify (EN 319 522-2): RA04 when the signer's
 * certificate expired or was revoked, RA02 when the seal is otherwise invalid (changed content, broken
 * signature, untrusted or malformed certificate path).
 */
export function sealRejection(
  label: string,
  findings: readonly Finding[],
): { code: ReasonCode; details: string } {
  const errors = findings.filter((f) => f.severity === 'error');
  const certificate = errors.find((f) => f.code === 'PKI_CERT_EXPIRED' || f.code === 'PKI_CERT_REVOKED');
  const failed = certificate ?? errors[0];
  const more =
    errors.length > 1
      ? ` (and ${errors.length - 1} more: ${errors
          .filter((f) => f !== failed)
          .map((f) => f.code)
          .join(', ')})`
      : '';
  return {
    code: certificate ? 'RA04' : 'RA02',
    details: `${label} not valid: ${failed ? `${failed.code}: ${failed.message}` : 'unknown'}${more}`,
  };
}

function refuse(code: ReasonCode, details: string): SenderSealOutcome {
  return { ok: false, reason: { code, details } };
}

function subjectOf(cert: { readonly subject: string } | undefined): string {
  return cert?.subject.replace(/\n/g, ', ') ?? '(unknown signer)';
}
