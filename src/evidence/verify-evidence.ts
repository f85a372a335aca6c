import { createHash } from 'node:crypto';
import type { EvidenceData } from '../core/index.js';
import { isQerdsError } from '../core/index.js';
import type { Finding } from '../pki/types.js';
import { revocationUnknown } from '../pki/revocation-status.js';
import { certificateQcReport } from '../pki/certificate-facts.js';
import { verifyXmlSealForReading } from '../seal/index.js';
import { indicationOf } from './indication.js';
import { checkEvidenceSealer } from './issuer-check.js';
import { parseEvidenceElement, parseEvidenceXml } from './parse-evidence.js';
import type { TrustList } from '../trust-list/index.js';
import type { SealVerification } from '../seal/index.js';
import type { QualifiedReport, VerificationReport, VerifyEvidenceOptions } from './types.js';

/**
 * Verify one sealed evidence: the XAdES seal (signature, signing certificate path, timestamp), then the
 * evidence read from what the seal covers, then, when given, the user content against the part
 * digests. The result is a report (EN 319 102-1 indications), never an exception.
 */
export async function verifyEvidence(
  xml: string,
  options: VerifyEvidenceOptions,
): Promise<VerificationReport> {
  const { seal, signed } = await verifyXmlSealForReading(xml, {
    trust: options.trust,
    ...(options.at ? { at: options.at } : {}),
  });
  const findings: Finding[] = [...seal.findings];
  let evidence: EvidenceData | undefined;
  // Threat: reading the evidence from the input instead of from what the seal covers would let an unsigned part
  // (a wrapped copy) be shown as sealed. Only the covered document is read: for our form, the DOM nodes the
  // verified whole-document reference digested (one parse instead of two, parseEvidenceElement); for a foreign
  // form, its canonical form, parsed.
  if (seal.signedDocument !== undefined) {
    try {
      evidence = signed ? signed.read(parseEvidenceElement) : parseEvidenceXml(seal.signedDocument);
    } catch (e) {
      findings.push({
        code: isQerdsError(e) ? e.code : 'EVIDENCE_MALFORMED',
        message: (e as Error).message,
        severity: 'error',
      });
    }
  }
  // EN 319 102-1 §5.2.6: a seal certificate whose revocation status nobody established (no CRL in the trust
  // store, none in the evidence's RevocationValues) is INDETERMINATE TRY_LATER, not PASSED. B-LT and B-LTA
  // evidence carries its CRLs and settles this offline.
  if (seal.signer && !seal.findings.some((f) => f.code === 'SEAL_CERT_PATH_INVALID'))
    findings.push(...revocationUnknown(seal.findings, seal.signer, 'seal certificate'));
  // The same for the TSA certificate of the SignatureTimeStamp that gives the seal its proof of existence: a TSA key
  // revoked (compromised) before genTime makes the token worthless, so an unknown status is INDETERMINATE TRY_LATER
  // too (threat: a stolen TSA key backdating a seal). EN 319 102-1 validates a time-stamp's signing certificate with
  // the same X.509 validation block (§5.2.6) as the signer's, revocation included, as we read it; the text is not
  // available offline. B-LT/B-LTA evidence carries the TSA's CRL in its RevocationValues and settles this offline.
  const ts = seal.timestamp;
  if (ts?.valid && ts.tsaCertificate && ts.tsaRevocationUnchecked?.length) {
    findings.push({
      code: 'TSA_REVOCATION_UNKNOWN',
      severity: 'error',
      message: `the revocation status of the SignatureTimeStamp's TSA certificate ${ts.tsaCertificate.subject.replace(/\n/g, ', ')} cannot be established (${ts.tsaRevocationUnchecked.map((f) => f.message).join('; ')}): give the TSA CA's CRL with --trust, or seal at B-LT`,
    });
  }
  // Who sealed it may speak as the issuer it names (issuer-check.ts).
  let issuerBinding: VerificationReport['issuerBinding'];
  if (evidence && seal.signer) {
    const sealer = checkEvidenceSealer(evidence, seal.signer, options.issuerPins);
    findings.push(...sealer.findings);
    issuerBinding = sealer.binding;
  }
  if (evidence && options.content !== undefined) findings.push(...checkContent(evidence, options.content));
  if (options.requireTimestamp && seal.level === 'B-B' && seal.valid) {
    findings.push({
      code: 'EVIDENCE_NO_TIMESTAMP',
      message: 'the seal has no valid SignatureTimeStamp (B-T required)',
      severity: 'error',
    });
  } else if (seal.valid && seal.level === 'B-B') {
    findings.push({
      code: 'EVIDENCE_NO_TIMESTAMP',
      message: 'the seal has no SignatureTimeStamp: no proof of time (B-B)',
      severity: 'warning',
    });
  }
  const qualified = options.trustList ? qualifiedReport(seal, options.trustList, options.at) : undefined;
  const { indication, subIndication } = indicationOf(findings);
  return {
    indication,
    ...(subIndication ? { subIndication } : {}),
    ...(evidence ? { evidence } : {}),
    ...(issuerBinding ? { issuerBinding } : {}),
    seal,
    ...(seal.signer ? { sealCertificate: certificateQcReport(seal.signer) } : {}),
    ...(qualified ? { qualified } : {}),
    findings,
  };
}

/**
 * The qualified status of the seal and the TSA at the proof of existence of the seal (the valid
 * SignatureTimeStamp's genTime; else the validation time): eIDAS asks whether the service was qualified when
 * it acted, not today. Only certificates the seal verification accepted are looked up.
 */
function qualifiedReport(seal: SealVerification, list: TrustList, at: Date | undefined): QualifiedReport {
  const when = seal.timestamp?.valid ? seal.timestamp.genTime : (seal.validationTime ?? at ?? new Date());
  const tsaCert = seal.timestamp?.valid ? seal.timestamp.tsaCertificate : undefined;
  return {
    at: when,
    ...(seal.signer && seal.valid ? { seal: list.statusOf(seal.signer, when) } : {}),
    ...(tsaCert ? { tsa: list.statusOf(tsaCert, when) } : {}),
  };
}

function checkContent(evidence: EvidenceData, content: Buffer | readonly Buffer[]): Finding[] {
  const digests = (Buffer.isBuffer(content) ? [content] : (content as readonly Buffer[])).map((c) =>
    createHash('sha256').update(c).digest('hex'),
  );
  const mismatch = (message: string): Finding[] => [
    { code: 'EVIDENCE_CONTENT_MISMATCH', message, severity: 'error' },
  ];
  const parts = evidence.parts.map((p) => p.sha256.toLowerCase());
  if (Buffer.isBuffer(content)) {
    return parts.includes(digests[0] as string)
      ? []
      : mismatch('the content does not match the digest of any part in the evidence');
  }
  if (digests.length !== parts.length)
    return mismatch(`the evidence lists ${parts.length} parts, ${digests.length} were given`);
  const bad = parts.findIndex((p, i) => p !== digests[i]);
  return bad < 0
    ? []
    : mismatch(`part ${evidence.parts[bad]?.partId ?? bad} does not match its digest in the evidence`);
}
