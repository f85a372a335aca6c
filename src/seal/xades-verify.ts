import { createHash, timingSafeEqual, verify, type X509Certificate } from 'node:crypto';
import { isQerdsError } from '../core/errors.js';
import type { Finding } from '../pki/types.js';
import { digestAlgorithm, keyMatches, signatureAlgorithm } from './algorithms.js';
import { issuerSerialV2Der } from './issuer-serial.js';
import { readQualifyingProperties, type QualifyingPropertiesModel } from './qualifying-properties.js';
import { readUnsignedProperties, type UnsignedPropertiesModel } from './unsigned-properties.js';
import { checkTimestampChain, embeddedRevocationStore } from './xades-timestamps.js';
import {
  checkReference,
  readReference,
  scanDocument,
  type IdIndex,
  type ReferenceCheck,
} from './references.js';
import type { SealLevel, SealVerification, VerifyXmlSealOptions } from './types.js';
import {
  childElements,
  EXC_C14N,
  excC14n,
  NS,
  parseXmlStrict,
  requireChild,
  SIGNED_PROPERTIES_TYPE,
  textOf,
} from './xml.js';
import { certificateFrom } from '../pki/parse-cache.js';
import { verifyXadesDocument } from './xades-document.js';

const DEFAULT_SKEW_MS = 300_000;

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

/**
 * Verify an enveloped XAdES baseline signature (B-B, B-T, B-LT or B-LTA) made by {@link sealXml} or by another
 * implementation of the same profile. Returns findings instead of throwing; `valid` is true only when
 * there is no error finding. What the signature covers is returned as canonical text
 * (`signedReferences`, `signedDocument`): read those, not the input, after verification.
 */
export async function verifyXmlSeal(xml: string, options: VerifyXmlSealOptions): Promise<SealVerification> {
  return (await verifyXmlSealForReading(xml, options)).seal;
}

/**
 * The document the whole-document reference covered, as the DOM the verification parsed: `read` runs with the
 * one ds:Signature taken out (put back right after, synchronously), so the reader sees the nodes exclusive C14N
 * digested for that reference, the document element and everything under it. Threat: wrapping — there is
 * nothing else to read from: one signature only, no duplicate Ids, and URI="" covers the whole document.
 */
export interface SignedDocumentView {
  read<T>(reader: (root: Element) => T): T;
}

/**
 * verifyXmlSeal, and for a seal of this AP's form whose whole-document reference matched under a verified
 * signature value (when `signedDocument` is set), a view of that document in the parsed DOM: reading it
 * costs no second parse of the canonical form. A foreign-form seal has no view: read `signedDocument`.
 */
export async function verifyXmlSealForReading(
  xml: string,
  options: VerifyXmlSealOptions,
): Promise<{ seal: SealVerification; signed?: SignedDocumentView }> {
  const findings: Finding[] = [];
  const none = (): SealVerification => ({ valid: false, level: 'none', findings, signedReferences: [] });
  let doc: Document;
  try {
    doc = parseXmlStrict(xml, 'SEAL_MALFORMED');
  } catch (e) {
    findings.push(asFinding(e));
    return { seal: none() };
  }
  // One walk for the ds:Signature elements and the Ids (the duplicates here, the #id references in checkReference).
  const { signatures, ids } = scanDocument(doc);
  if (signatures.length === 0) findings.push(err('SEAL_NO_SIGNATURE', 'the document has no ds:Signature'));
  // Threat: signature wrapping — with several signatures, the one verified need not be the one that
  // covers what the application reads. Evidence carries exactly one seal.
  if (signatures.length > 1)
    findings.push(
      err('SEAL_MULTIPLE_SIGNATURES', `the document has ${signatures.length} ds:Signature elements`),
    );
  for (const id of ids.duplicates)
    findings.push(err('SEAL_DUPLICATE_ID', `Id "${id}" occurs more than once (signature wrapping?)`));
  if (findings.length > 0) return { seal: none() };
  const signature = signatures[0] as Element;

  let own: SealVerification;
  try {
    own = await verifySignature(doc, xml, { signature, signatures, ids }, options, findings);
  } catch (e) {
    findings.push(asFinding(e));
    own = none();
  }
  if (!own.valid && onlyFormErrors(own.findings)) return { seal: await foreignForm(xml, options, own) };
  // signedDocument is set only when the URI="" reference (enveloped-signature, exc-c14n: checkReference takes
  // out this same signature, the document's only one) matched and the signature value verified.
  if (own.signedDocument === undefined) return { seal: own };
  const root = doc.documentElement;
  const signed: SignedDocumentView = {
    read: (reader) => {
      const parent = signature.parentNode as Node;
      const next = signature.nextSibling;
      parent.removeChild(signature);
      try {
        return reader(root);
      } finally {
        parent.insertBefore(signature, next);
      }
    },
  };
  return { seal: own, signed };
}

/** Errors that only say "not our profile's form": the signature may still be sound XAdES. */
const FORM_ERRORS = new Set([
  'SEAL_TRANSFORM_UNSUPPORTED',
  'SEAL_REFERENCE_UNSUPPORTED',
  'SEAL_REFERENCE_MISSING',
  'SEAL_ALGORITHM_UNSUPPORTED',
  'SEAL_SIGNING_CERT_MISSING',
  'SEAL_SIGNING_TIME_MISSING',
  'SEAL_TIMESTAMP_UNSUPPORTED',
  // QualifyingProperties of XAdES 1.1.1/1.2.2, or a Target written without "#".
  'SEAL_XADES_MISSING',
  'SEAL_XADES_TARGET',
]);

function onlyFormErrors(findings: readonly Finding[]): boolean {
  const errors = findings.filter((f) => f.severity === 'error');
  return errors.length > 0 && errors.every((f) => FORM_ERRORS.has(f.code));
}

/**
 * A seal of another product (evidence of another REM provider sealed with XPath Filter 2.0, C14N 1.0,
 * SigningCertificate v1…): judged by EN 319 132 itself ({@link verifyXadesDocument}). The document to read is
 * what its one whole-document reference covers. Wrapping checks stay: one signature only.
 */
async function foreignForm(
  xml: string,
  options: VerifyXmlSealOptions,
  own: SealVerification,
): Promise<SealVerification> {
  const report = await verifyXadesDocument(xml, {
    trust: options.trust,
    ...(options.at ? { at: options.at } : {}),
  });
  const s = report.signatures.length === 1 ? report.signatures[0] : undefined;
  if (!s) return own;
  // A seal is XAdES: a bare XMLDSig signature names no signing certificate the signer committed to.
  const valid = report.indication === 'TOTAL-PASSED' && s.form === 'XAdES' && s.signedDocument !== undefined;
  const signatureTs = s.timestamps.filter((t) => t.kind === 'SignatureTimeStamp' && t.genTime);
  const proven = signatureTs.find((t) => t.valid) ?? signatureTs[0];
  const level = (['B-B', 'B-T', 'B-LT', 'B-LTA'] as const).find((l) => l === s.level) ?? 'none';
  return {
    valid,
    level: valid ? level : 'none',
    ...(s.signingTime ? { signingTime: s.signingTime } : {}),
    ...(s.signer ? { signer: s.signer } : {}),
    ...(proven?.genTime ? { timestamp: { genTime: proven.genTime, valid: proven.valid } } : {}),
    validationTime: options.at ?? new Date(),
    findings: [
      {
        code: 'SEAL_FOREIGN_FORM',
        message: `not the form this AP seals with; verified as ${report.kind} by EN 319 132 (${report.indication}${report.subIndication ? `/${report.subIndication}` : ''})`,
        severity: 'info',
      },
      ...report.findings,
    ],
    signedReferences: [],
    ...(valid && s.signedDocument !== undefined ? { signedDocument: s.signedDocument } : {}),
  };
}

async function verifySignature(
  doc: Document,
  xml: string,
  found: { readonly signature: Element; readonly signatures: readonly Element[]; readonly ids: IdIndex },
  options: VerifyXmlSealOptions,
  findings: Finding[],
): Promise<SealVerification> {
  const allowUnsafe = options.allowUnsafeAlgorithms ?? false;
  const { signature, signatures, ids } = found;
  const signedInfo = requireChild(signature, NS.ds, 'SignedInfo', 'SEAL_MALFORMED');
  const c14nMethod = requireChild(signedInfo, NS.ds, 'CanonicalizationMethod', 'SEAL_MALFORMED');
  if (c14nMethod.getAttribute('Algorithm') !== EXC_C14N || childElements(c14nMethod).length > 0) {
    findings.push(
      err(
        'SEAL_ALGORITHM_UNSUPPORTED',
        `SignedInfo canonicalization must be exclusive C14N without parameters`,
      ),
    );
  }
  const sigAlg = signatureAlgorithm(
    requireChild(signedInfo, NS.ds, 'SignatureMethod', 'SEAL_MALFORMED').getAttribute('Algorithm') ?? '',
    allowUnsafe,
  );
  const signatureValueEl = requireChild(signature, NS.ds, 'SignatureValue', 'SEAL_MALFORMED');
  const qp = readQualifyingProperties(signature);

  // References: recompute every digest.
  const checks: ReferenceCheck[] = childElements(signedInfo, NS.ds, 'Reference').map((r) =>
    checkReference(readReference(r), { doc, xml, signatureIndex: 0, allowUnsafe, signatures, ids }),
  );
  const docRefs = checks.filter((c) => c.reference.uri === '');
  if (docRefs.length !== 1)
    findings.push(
      err('SEAL_REFERENCE_MISSING', 'the signature must have one whole-document reference (URI="")'),
    );
  const propRefs = checks.filter((c) => c.reference.type === SIGNED_PROPERTIES_TYPE);
  if (propRefs.length !== 1 || propRefs[0]?.target !== qp.signedProperties) {
    findings.push(
      err(
        'SEAL_REFERENCE_MISSING',
        'the signature must have one reference of Type SignedProperties to its own SignedProperties',
      ),
    );
  }
  for (const c of checks.filter((c) => !c.matched)) {
    findings.push(
      err(
        'SEAL_DIGEST_MISMATCH',
        `the digest of reference "${c.reference.uri || '(whole document)'}" does not match: content changed after sealing`,
      ),
    );
  }

  // Signer: the KeyInfo certificate that SigningCertificateV2 names.
  const keyInfoCerts = readKeyInfoCertificates(signature);
  const signer = findSigner(keyInfoCerts, qp, allowUnsafe, findings);
  let signatureOk = false;
  if (signer) {
    if (!keyMatches(sigAlg, signer.publicKey)) {
      findings.push(
        err(
          'SEAL_SIGNATURE_INVALID',
          `${sigAlg.uri} does not fit the signer's ${signer.publicKey.asymmetricKeyType} key`,
        ),
      );
    } else {
      const value = Buffer.from(textOf(signatureValueEl), 'base64');
      signatureOk = verify(
        sigAlg.digest,
        Buffer.from(excC14n(signedInfo), 'utf8'),
        { key: signer.publicKey, dsaEncoding: 'ieee-p1363' },
        value,
      );
      if (!signatureOk)
        findings.push(
          err('SEAL_SIGNATURE_INVALID', 'the signature value does not verify with the signing certificate'),
        );
    }
  }
  if (!qp.signingTime)
    findings.push(err('SEAL_SIGNING_TIME_MISSING', 'SignedSignatureProperties lacks SigningTime'));

  // B-T, B-LT, B-LTA: the timestamps as a chain of proofs of existence, newest first.
  const now = options.at ?? new Date();
  // readQualifyingProperties (above) has made sure there is exactly one QualifyingProperties.
  const unsigned = readUnsignedProperties(findQualifyingProperties(signature) as Element);
  const embeddedRevocation = embeddedRevocationStore(options.trust, unsigned.crls);
  const chain = await checkTimestampChain(
    {
      signature,
      signatureValue: signatureValueEl,
      unsigned,
      referenceOctets: checks.map((c) => c.canonical),
      trust: options.trust,
      embeddedRevocation,
      certificates: unsigned.certificates,
      now,
      signingTime: qp.signingTime,
      maxClockSkewMs: options.maxClockSkewMs ?? DEFAULT_SKEW_MS,
    },
    findings,
  );
  const timestamp = chain.signatureTimestamp;

  // Path validation at a time we can prove: the SignatureTimeStamp's genTime when it holds; otherwise
  // the current time, since a claimed SigningTime proves nothing about when the key was used.
  if (signer && options.trust) {
    const at = timestamp?.valid ? timestamp.genTime : now;
    const intermediates = [...keyInfoCerts, ...unsigned.certificates].filter((c) => c !== signer);
    // B-LT: the CRLs in RevocationValues count as much as the trust store's own (a revocation in either
    // fails; the status is known when either covers the time).
    const path = (embeddedRevocation ?? options.trust).validate(signer, { at, intermediates });
    for (const f of path.findings)
      findings.push(
        embeddedRevocation && f.code === 'PKI_CERT_REVOKED'
          ? { ...f, message: `${f.message} (trust store or embedded CRL)` }
          : f,
      );
    if (!path.valid)
      findings.push(
        err(
          'SEAL_CERT_PATH_INVALID',
          `the signing certificate is not valid at ${at.toISOString()} under the trust store`,
        ),
      );
  }

  const valid = !findings.some((f) => f.severity === 'error');
  const signedReferences = signatureOk ? checks.filter((c) => c.matched).map((c) => c.canonical) : [];
  const docRef = docRefs[0];
  return {
    valid,
    level: !valid ? 'none' : levelOf(timestamp?.valid ?? false, unsigned, chain.validArchiveTimestamps),
    signingTime: qp.signingTime,
    signer,
    timestamp,
    timestamps: chain.timestamps.map((t) => ({
      kind: t.kind,
      ...(t.genTime ? { genTime: t.genTime } : {}),
      valid: t.valid,
      validatedAt: t.validatedAt,
    })),
    validationTime: now,
    findings,
    signedReferences,
    signedDocument: signatureOk && docRef?.matched ? docRef.canonical : undefined,
  };
}

function readKeyInfoCertificates(signature: Element): X509Certificate[] {
  const keyInfo = childElements(signature, NS.ds, 'KeyInfo')[0];
  if (!keyInfo) return [];
  return childElements(keyInfo, NS.ds, 'X509Data')
    .flatMap((d) => childElements(d, NS.ds, 'X509Certificate'))
    .map((c) => certificateFrom(Buffer.from(textOf(c), 'base64')));
}

function findSigner(
  candidates: readonly X509Certificate[],
  qp: QualifyingPropertiesModel,
  allowUnsafe: boolean,
  findings: Finding[],
): X509Certificate | undefined {
  const first = qp.certs[0];
  if (!first) return undefined;
  const digest = digestAlgorithm(first.digestUri, allowUnsafe);
  const signer = candidates.find((c) => {
    const d = createHash(digest.digest).update(c.raw).digest();
    return d.length === first.digest.length && timingSafeEqual(d, first.digest);
  });
  if (!signer) {
    // Threat: certificate substitution — the key that verifies must be the one the signer committed to.
    findings.push(
      err('SEAL_SIGNING_CERT_MISMATCH', 'no KeyInfo certificate matches the SigningCertificateV2 digest'),
    );
    return undefined;
  }
  if (first.issuerSerialV2 && !first.issuerSerialV2.equals(issuerSerialV2Der(signer))) {
    findings.push(
      warn('SEAL_ISSUER_SERIAL_MISMATCH', 'IssuerSerialV2 does not match the signing certificate'),
    );
  }
  return signer;
}

function levelOf(
  timestamped: boolean,
  unsigned: UnsignedPropertiesModel,
  validArchiveTimestamps: number,
): SealLevel {
  if (!timestamped) return 'B-B';
  if (validArchiveTimestamps > 0) return 'B-LTA';
  return unsigned.hasCertificateValues && unsigned.hasRevocationValues ? 'B-LT' : 'B-T';
}

function findQualifyingProperties(signature: Element): Element | undefined {
  return childElements(signature, NS.ds, 'Object').flatMap((o) =>
    childElements(o, NS.xades, 'QualifyingProperties'),
  )[0];
}

function asFinding(e: unknown): Finding {
  if (isQerdsError(e)) return err(e.code, e.message);
  return err('SEAL_MALFORMED', `the signature cannot be read: ${(e as Error).message}`);
}
