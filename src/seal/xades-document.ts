import { createHash, createPublicKey, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { isQerdsError } from '../core/errors.js';
import { certificateFrom } from '../pki/parse-cache.js';
import {
  createTrustStore,
  derChildren,
  readDerElement,
  verifyBasicOcspResponse,
  verifyOcspResponse,
  type Finding,
  type TrustStore,
} from '../pki/index.js';
import { verifyTimestampToken } from '../timestamp/verify.js';
import { c14nMethodOf, canonicalizeSubtree, type C14nMethod } from '../xml/c14n-nodeset.js';
import { C14N, TSL_NS } from '../xml/index.js';
import { isWeakAlgorithm, xmlSignatureAlgorithm } from '../crypto/index.js';
import {
  digestOf,
  processReference,
  type DetachedDocument,
  type ForeignReferenceResult,
} from './dsig-reference.js';
import { childElements, EXC_C14N, isElement, NS, parseXmlStrict, textOf } from './xml.js';

/**
 * Verification of XML signatures that other products make (EU DSS, xadesjs, xmlsec, national trusted-list
 * signers): XMLDSig 1.1 with or without XAdES (EN 319 132-1 baseline B-B…B-LTA, and the XAdES 1.1.1–1.4.1
 * forms -T, -X, -XL, -A), enveloped, enveloping or detached. Judged by their own standard, not by our
 * evidence profile ({@link verifyXmlSeal} stays the strict check of our own seals).
 *
 * Verdicts follow EN 319 102-1: FAILED only when a check ran and failed (a digest, the signature value, a
 * revoked certificate); an algorithm or form not implemented here, a detached document not given, or a
 * revocation status that cannot be established is INDETERMINATE with the sub-indication saying why.
 */

export type DocumentIndication = 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE';

export interface XadesDocumentOptions {
  readonly trust: TrustStore;
  /** Validation time (the verifier's clock when absent). */
  readonly at?: Date;
  /** Documents that detached references name. */
  readonly detached?: readonly DetachedDocument[];
  readonly maxClockSkewMs?: number;
}

export interface XadesSignatureReport {
  readonly id?: string;
  /** 'XAdES' when the signature carries QualifyingProperties, else 'XMLDSig'. */
  readonly form: 'XAdES' | 'XMLDSig';
  /** B-B, B-T, B-LT, B-LTA (reached forms; the older -X / -XL names map onto these) or 'none'. */
  readonly level: string;
  readonly indication: DocumentIndication;
  readonly subIndication?: string;
  /** The signature value verified with the signer's key (the crypto check alone). */
  readonly signatureValueVerified: boolean;
  readonly signer?: X509Certificate;
  readonly signingTime?: Date;
  readonly references: readonly {
    readonly uri?: string;
    readonly type?: string;
    readonly status: string;
    readonly message?: string;
  }[];
  readonly timestamps: readonly { readonly kind: string; readonly genTime?: Date; readonly valid: boolean }[];
  /**
   * The counter-signatures of this signature (EN 319 132-1 §5.2.7, xades:CounterSignature), each verified on
   * its own over this signature's SignatureValue; their findings are also this signature's (prefixed), so its
   * verdict is the weakest of all, as for CAdES countersignatures.
   */
  readonly counterSignatures?: readonly XadesSignatureReport[];
  /** The ds:Manifests the signature references (XMLDSig §5.1), their references checked as extra information. */
  readonly manifests?: readonly XadesManifestReport[];
  /**
   * What the whole-document reference (URI="") covers, as the octets its digest was computed over, when that
   * digest and the signature value verify: the document to read after verification (a trusted list's services).
   */
  readonly signedDocument?: string;
  readonly findings: Finding[];
}

/**
 * A ds:Manifest (XMLDSig 1.1 §5.1): core validation does not cover its references ("application-defined");
 * each same-document one is checked here and reported, an external one is "not checked" unless given.
 */
export interface XadesManifestReport {
  readonly id?: string;
  readonly references: readonly {
    readonly uri?: string;
    readonly status: 'VALID' | 'INVALID' | 'not checked';
    readonly message?: string;
  }[];
}

export interface XadesDocumentReport {
  readonly kind: 'XAdES' | 'XMLDSig' | 'trusted list';
  readonly indication: DocumentIndication;
  readonly subIndication?: string;
  readonly signatures: readonly XadesSignatureReport[];
  readonly findings: Finding[];
}

/** XAdES namespaces by version: 1.3.2 (EN 319 132), 1.2.2 and 1.1.1 (TS 101 903 of 2003/2002). */
const XADES_NAMESPACES = [NS.xades, 'http://uri.etsi.org/01903/v1.2.2#', 'http://uri.etsi.org/01903/v1.1.1#'];
const XADES141 = NS.xades141;

const DEFAULT_SKEW_MS = 300_000;
const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

/** Whether `xml` is signed XML this verifier takes (a ds:Signature anywhere), judged from the text alone. */
export function looksLikeSignedXml(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096).toString('utf8');
  if (!head.trimStart().startsWith('<')) return false;
  return bytes.includes(NS.ds) && /Signature[\s>]/.test(bytes.toString('utf8'));
}

/**
 * Verify every top-level ds:Signature of a signed XML document, each with its counter-signatures. The
 * document's verdict is the worst of its signatures'.
 */
export async function verifyXadesDocument(
  xml: string,
  options: XadesDocumentOptions,
): Promise<XadesDocumentReport> {
  let doc: Document;
  try {
    doc = parseXmlStrict(xml, 'SEAL_MALFORMED', { what: 'signed XML', allowProcessingInstructions: true });
  } catch (e) {
    const findings = [asFinding(e)];
    return {
      kind: 'XMLDSig',
      indication: 'TOTAL-FAILED',
      subIndication: 'FORMAT_FAILURE',
      signatures: [],
      findings,
    };
  }
  const isTrustedList =
    doc.documentElement.namespaceURI === TSL_NS && doc.documentElement.localName === 'TrustServiceStatusList';
  const signatures = topLevelSignatures(doc);
  if (signatures.length === 0) {
    return {
      kind: isTrustedList ? 'trusted list' : 'XMLDSig',
      indication: 'TOTAL-FAILED',
      subIndication: 'FORMAT_FAILURE',
      signatures: [],
      findings: [err('SEAL_NO_SIGNATURE', 'the document has no ds:Signature')],
    };
  }
  const reports: XadesSignatureReport[] = [];
  for (const signature of signatures) reports.push(await verifyOne(doc, signature, options));
  const worst =
    reports.find((r) => r.indication === 'TOTAL-FAILED') ??
    reports.find((r) => r.indication === 'INDETERMINATE') ??
    reports[0]!;
  const kind = isTrustedList ? 'trusted list' : reports.some((r) => r.form === 'XAdES') ? 'XAdES' : 'XMLDSig';
  return {
    kind,
    indication: worst.indication,
    ...(worst.subIndication ? { subIndication: worst.subIndication } : {}),
    signatures: reports,
    findings: reports.flatMap((r, i) =>
      r.findings.map((f) => (reports.length > 1 ? { ...f, message: `signature ${i + 1}: ${f.message}` } : f)),
    ),
  };
}

function topLevelSignatures(doc: Document): Element[] {
  const out: Element[] = [];
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (!isElement(c)) continue;
      if (c.namespaceURI === NS.ds && c.localName === 'Signature') out.push(c);
      else walk(c);
    }
  };
  walk(doc);
  return out;
}

interface QualifyingProps {
  readonly ns: string;
  readonly element: Element;
  readonly signedProperties?: Element;
  readonly unsignedSignatureProperties?: Element;
}

/** Counter-signatures nested deeper than this are refused (as for CAdES). */
const MAX_COUNTER_DEPTH = 4;

async function verifyOne(
  doc: Document,
  signature: Element,
  options: XadesDocumentOptions,
  counter?: { readonly countersigned: Element; readonly depth: number },
): Promise<XadesSignatureReport> {
  const findings: Finding[] = [];
  const now = options.at ?? new Date();
  const id = signature.getAttribute('Id') || undefined;
  const qp = findQualifyingProperties(signature, findings);
  const form: 'XAdES' | 'XMLDSig' = qp ? 'XAdES' : 'XMLDSig';
  const base = { ...(id ? { id } : {}), form };
  const signedInfo = childElements(signature, NS.ds, 'SignedInfo')[0];
  const signatureValueEl = childElements(signature, NS.ds, 'SignatureValue')[0];
  if (!signedInfo || !signatureValueEl) {
    findings.push(err('SEAL_MALFORMED', 'ds:Signature lacks SignedInfo or SignatureValue'));
    return finish({
      ...base,
      level: 'none',
      signatureValueVerified: false,
      references: [],
      timestamps: [],
      findings,
    });
  }

  // References.
  const refs = childElements(signedInfo, NS.ds, 'Reference')
    .map((r) => processReference(r, { doc, signature, detached: options.detached ?? [] }))
    .map((r) => (counter ? counterSignedReading(r, counter.countersigned, findings) : r));
  if (counter && !refs.some((r) => r.target === counter.countersigned)) {
    findings.push(
      err(
        'XADES_COUNTERSIGNATURE_TARGET',
        'no reference of the counter-signature points at the SignatureValue element it counter-signs',
      ),
    );
  }
  for (const r of refs) {
    const name = r.uri === undefined ? '(no URI)' : `"${r.uri}"`;
    if (r.status === 'mismatch')
      findings.push(err('SEAL_DIGEST_MISMATCH', r.message ?? `reference ${name} does not match`));
    else if (r.status === 'unsupported')
      findings.push(err('XADES_FORM_UNSUPPORTED', `reference ${name}: ${r.message ?? 'not supported'}`));
    else if (r.status === 'not-found')
      findings.push(err('XADES_SIGNED_DATA_NOT_FOUND', r.message ?? `reference ${name}: data not found`));
    else if (r.status === 'malformed')
      findings.push(err('SEAL_MALFORMED', `reference ${name}: ${r.message ?? 'malformed'}`));
    if (r.weakDigest)
      findings.push(
        err(
          'XADES_WEAK_ALGORITHM',
          `reference ${name} uses SHA-1, refused by the cryptographic constraints (computed: ${r.status})`,
        ),
      );
  }
  if (refs.length === 0) findings.push(err('SEAL_REFERENCE_MISSING', 'SignedInfo has no Reference'));

  // Certificates in the signature: KeyInfo, CertificateValues, TimeStampValidationData.
  const keyInfoCerts = certificatesIn(childElements(signature, NS.ds, 'KeyInfo'));
  const usp = qp?.unsignedSignatureProperties;
  const embeddedCerts = usp ? embeddedCertificates(usp, qp.ns) : [];
  const pool = dedupe([...keyInfoCerts, ...embeddedCerts]);

  // Signer: named by SigningCertificate(V2) in XAdES; the KeyInfo certificate otherwise.
  const signingTime = qp?.signedProperties ? readSigningTime(qp, findings) : undefined;
  let signer: X509Certificate | undefined;
  if (qp?.signedProperties) {
    signer = signingCertificate(qp, pool, findings);
    // The signed properties must be covered, or nothing binds them to the signature.
    // Threat: unsigned properties posing as signed ones — a reference must cover the SignedProperties element itself.
    const covered = refs.some(
      (r) =>
        r.status === 'matched' &&
        (r.target === qp.signedProperties || r.covers?.(qp.signedProperties!) === true),
    );
    if (!covered && !refs.some((r) => r.status !== 'matched' && r.status !== 'mismatch')) {
      findings.push(
        err('SEAL_REFERENCE_MISSING', 'no reference of the signature covers its SignedProperties'),
      );
    }
  } else {
    signer = keyInfoCerts[0];
  }
  const key: KeyObject | undefined = signer?.publicKey ?? keyValueOf(signature);
  if (!key)
    findings.push(err('SEAL_SIGNING_CERT_MISMATCH', 'no signing certificate or key in the signature'));

  // The signature value.
  let signatureValueVerified = false;
  const c14nEl = childElements(signedInfo, NS.ds, 'CanonicalizationMethod')[0];
  const c14nUri = c14nEl?.getAttribute('Algorithm') ?? '';
  const c14n = c14nMethodOf(c14nUri);
  const sigUri = childElements(signedInfo, NS.ds, 'SignatureMethod')[0]?.getAttribute('Algorithm') ?? '';
  const sigAlg = xmlSignatureAlgorithm(sigUri);
  if (!c14n)
    findings.push(err('XADES_FORM_UNSUPPORTED', `SignedInfo canonicalization ${c14nUri} is not implemented`));
  if (!sigAlg)
    findings.push(err('XADES_FORM_UNSUPPORTED', `signature algorithm ${sigUri} is not implemented`));
  if (c14n && sigAlg && key) {
    const prefixes = c14nUri.startsWith(EXC_C14N) ? prefixList(c14nEl!) : [];
    const octets = Buffer.from(canonicalizeSubtree(signedInfo, c14n, prefixes), 'utf8');
    const value = Buffer.from(textOf(signatureValueEl).replace(/\s+/g, ''), 'base64');
    try {
      signatureValueVerified = verify(
        sigAlg.hash ?? null,
        octets,
        sigAlg.keyType === 'rsa-pss'
          ? { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -1 /* digest length */ }
          : sigAlg.keyType === 'ec'
            ? { key, dsaEncoding: 'ieee-p1363' }
            : key,
        value,
      );
    } catch (e) {
      findings.push(
        err(
          'XADES_FORM_UNSUPPORTED',
          `the signature value cannot be checked with this key: ${(e as Error).message}`,
        ),
      );
    }
    if (!signatureValueVerified && !findings.some((f) => f.code === 'XADES_FORM_UNSUPPORTED')) {
      findings.push(
        err('SEAL_SIGNATURE_INVALID', "the signature value does not verify with the signer's key"),
      );
    }
    if (isWeakAlgorithm(sigAlg))
      findings.push(
        err(
          'XADES_WEAK_ALGORITHM',
          `${sigUri} (SHA-1) is refused by the cryptographic constraints (signature value ${signatureValueVerified ? 'verifies' : 'does not verify'})`,
        ),
      );
  }

  // Timestamps, newest archive first: each valid one proves the existence of what it covers at its genTime.
  const embeddedCrls = usp ? embeddedCrlsOf(usp, qp.ns) : [];
  const store =
    embeddedCrls.length > 0
      ? createTrustStore(options.trust.anchors, { crls: options.trust.crls, embeddedCrls })
      : options.trust;
  const timestamps = usp
    ? await checkTimestamps(
        signature,
        qp,
        usp,
        refs,
        store,
        pool,
        now,
        signingTime,
        options.maxClockSkewMs ?? DEFAULT_SKEW_MS,
        findings,
      )
    : { list: [], poe: undefined, archives: 0 };

  // The signer's certificate at the proven time of signing (the SignatureTimeStamp), else now.
  if (signer) {
    const at = timestamps.poe ?? now;
    const path = store.validate(signer, { at, intermediates: pool.filter((c) => c !== signer) });
    const unknown = path.findings.filter((f) => f.code === 'PKI_REVOCATION_NOT_CHECKED');
    for (const f of path.findings) if (f.code !== 'PKI_REVOCATION_NOT_CHECKED') findings.push(f);
    if (path.valid) {
      const ocsp = usp ? embeddedOcsp(usp, qp.ns) : [];
      const stillUnknown = unknown.filter((f) => {
        const i = path.path.findIndex((c) => f.message.endsWith(`for ${c.subject}`));
        const cert = path.path[i];
        const issuer = path.path[i + 1];
        return !(cert && issuer && ocspProvesGood(ocsp, cert, issuer, at, now));
      });
      // EN 319 102-1 §5.2.6: without revocation data for the validation time the status is unknown.
      for (const f of stillUnknown)
        findings.push(
          err(
            'XADES_REVOCATION_UNKNOWN',
            `${f.message}, and no OCSP response in the signature: the revocation status at ${at.toISOString()} cannot be established`,
          ),
        );
    } else {
      findings.push(
        err(
          'SEAL_CERT_PATH_INVALID',
          `the signing certificate is not valid at ${at.toISOString()} under the trust anchors`,
        ),
      );
    }
  }

  // Counter-signatures (EN 319 132-1 §5.2.7): each a signature over this one's SignatureValue element, verified
  // with the same trust inputs; their findings count for this signature too (the weakest decides).
  const counterSignatures: XadesSignatureReport[] = [];
  const holders = usp ? childElements(usp, qp.ns, 'CounterSignature') : [];
  for (const [i, holder] of holders.entries()) {
    const cs = childElements(holder, NS.ds, 'Signature')[0];
    const label = `counter-signature ${i + 1}${cs?.getAttribute('Id') ? ` (${cs.getAttribute('Id')})` : ''}`;
    if (!cs) {
      findings.push(err('SEAL_MALFORMED', `${label}: xades:CounterSignature holds no ds:Signature`));
      continue;
    }
    const depth = (counter?.depth ?? 0) + 1;
    if (depth > MAX_COUNTER_DEPTH) {
      findings.push(
        err('SEAL_MALFORMED', `${label}: counter-signatures nested deeper than ${MAX_COUNTER_DEPTH} levels`),
      );
      continue;
    }
    const r = await verifyOne(doc, cs, options, { countersigned: signatureValueEl, depth });
    counterSignatures.push(r);
    for (const f of r.findings) findings.push({ ...f, message: `${label}: ${f.message}` });
  }
  const manifests = checkManifests(doc, signature, refs, options, findings);

  const hasRevocationData = !!usp && (embeddedCrls.length > 0 || embeddedOcsp(usp, qp.ns).length > 0);
  const level = !qp
    ? 'none'
    : timestamps.archives > 0
      ? 'B-LTA'
      : timestamps.poe
        ? hasRevocationData && embeddedCerts.length > 0
          ? 'B-LT'
          : 'B-T'
        : 'B-B';
  return finish({
    ...base,
    level,
    signatureValueVerified,
    ...(signer ? { signer } : {}),
    ...(signingTime ? { signingTime } : {}),
    references: refs.map((r) => ({
      ...(r.uri !== undefined ? { uri: r.uri } : {}),
      ...(r.type ? { type: r.type } : {}),
      status: r.status,
      ...(r.message ? { message: r.message } : {}),
    })),
    timestamps: timestamps.list,
    ...(counterSignatures.length > 0 ? { counterSignatures } : {}),
    ...(manifests.length > 0 ? { manifests } : {}),
    ...(signedDocumentOf(refs, signatureValueVerified) ?? {}),
    findings,
  });
}

/**
 * A counter-signature's reference to the countersigned SignatureValue. TS 101 903 §7.2.4.2 (and EN 319 132-1
 * §5.2.7, whose text is not available offline; TS 101 903 is quoted here) defines its digest as that "of the
 * complete (and canonicalized) ds:SignatureValue element (i.e. including the starting and closing tags)".
 * Some producers write a transform chain that, read literally, selects nothing (an XPath
 * `not(ancestor-or-self::dsig:Signature)` over an element that is inside a ds:Signature) yet digest the
 * element as the standard says: when the XMLDSig result does not match but the standard's octets (the
 * element canonicalized with the reference's last canonicalization transform, C14N 1.0 when none) do, the
 * reference holds, with a warning.
 */
function counterSignedReading(
  r: ForeignReferenceResult,
  countersigned: Element,
  findings: Finding[],
): ForeignReferenceResult {
  if (r.target !== countersigned || r.status !== 'mismatch') return r;
  const dm = childElements(r.element, NS.ds, 'DigestMethod')[0];
  const dv = childElements(r.element, NS.ds, 'DigestValue')[0];
  const digest = dm && digestOf(dm.getAttribute('Algorithm') ?? '');
  if (!digest || !dv) return r;
  const transforms = childElements(r.element, NS.ds, 'Transforms').flatMap((t) =>
    childElements(t, NS.ds, 'Transform'),
  );
  const c14nEl = transforms.filter((t) => c14nMethodOf(t.getAttribute('Algorithm') ?? '')).at(-1);
  const method = c14nMethodOf(c14nEl?.getAttribute('Algorithm') ?? C14N)!;
  const octets = Buffer.from(
    canonicalizeSubtree(countersigned, method, c14nEl ? prefixList(c14nEl) : []),
    'utf8',
  );
  if (
    !createHash(digest.name)
      .update(octets)
      .digest()
      .equals(Buffer.from(textOf(dv), 'base64'))
  )
    return r;
  findings.push(
    warn(
      'XADES_COUNTERSIGNED_DIGEST_READING',
      `reference "${r.uri ?? ''}": the transforms select other data, but the digest is that of the canonicalized SignatureValue element, as TS 101 903 §7.2.4.2 defines it`,
    ),
  );
  const { message: _m, ...rest } = r;
  return { ...rest, status: 'matched', octets };
}

/**
 * The ds:Manifests a reference of the signature points at (the Manifest itself, or a ds:Object holding one).
 * XMLDSig 1.1 §5.1 leaves checking a Manifest's references to the application; core validation does not
 * include them. Whether EN 319 102-1 makes a failed manifest reference decide the verdict could not be read
 * (its text is not available offline): a failed one is reported as a warning and the verdict is unchanged.
 * An external URI is "not checked" unless its document was given (--document).
 */
function checkManifests(
  doc: Document,
  signature: Element,
  refs: readonly ForeignReferenceResult[],
  options: XadesDocumentOptions,
  findings: Finding[],
): XadesManifestReport[] {
  const manifests: Element[] = [];
  for (const r of refs) {
    const t = r.target;
    if (!t || t.namespaceURI !== NS.ds) continue;
    const found =
      t.localName === 'Manifest' ? [t] : t.localName === 'Object' ? childElements(t, NS.ds, 'Manifest') : [];
    for (const m of found) if (!manifests.includes(m)) manifests.push(m);
  }
  return manifests.map((m) => {
    const id = m.getAttribute('Id') || undefined;
    const references = childElements(m, NS.ds, 'Reference').map((ref) => {
      const r = processReference(ref, { doc, signature, detached: options.detached ?? [] });
      const uri = r.uri === undefined ? {} : { uri: r.uri };
      if (r.status === 'matched') return { ...uri, status: 'VALID' as const };
      if (r.status === 'mismatch') {
        findings.push(
          warn(
            'XADES_MANIFEST_REFERENCE_INVALID',
            `manifest${id ? ` ${id}` : ''}: ${r.message ?? 'a reference does not match'} (not part of core validation)`,
          ),
        );
        return { ...uri, status: 'INVALID' as const, ...(r.message ? { message: r.message } : {}) };
      }
      return { ...uri, status: 'not checked' as const, ...(r.message ? { message: r.message } : {}) };
    });
    return { ...(id ? { id } : {}), references };
  });
}

function signedDocumentOf(
  refs: readonly ForeignReferenceResult[],
  signatureValueVerified: boolean,
): { signedDocument: string } | undefined {
  const whole = refs.filter((r) => r.uri === '');
  const only = whole.length === 1 ? whole[0] : undefined;
  return signatureValueVerified && only?.status === 'matched' && only.octets
    ? { signedDocument: only.octets.toString('utf8') }
    : undefined;
}

/**
 * Finding codes → EN 319 102-1 (sub-)indication, most definite first: a check that ran and failed decides
 * over one that could not run.
 */
const RULES: readonly {
  readonly codes: readonly string[];
  readonly indication: DocumentIndication;
  readonly sub: string;
}[] = [
  { codes: ['SEAL_DIGEST_MISMATCH'], indication: 'TOTAL-FAILED', sub: 'HASH_FAILURE' },
  { codes: ['SEAL_SIGNATURE_INVALID'], indication: 'TOTAL-FAILED', sub: 'SIG_CRYPTO_FAILURE' },
  { codes: ['SEAL_TIMESTAMP_SIG_FAILURE'], indication: 'TOTAL-FAILED', sub: 'SIG_CRYPTO_FAILURE' },
  { codes: ['SEAL_TIMESTAMP_HASH_FAILURE'], indication: 'TOTAL-FAILED', sub: 'HASH_FAILURE' },
  {
    codes: [
      'SEAL_MALFORMED',
      'SEAL_NO_SIGNATURE',
      'SEAL_REFERENCE_MISSING',
      'SEAL_XADES_TARGET',
      'SEAL_TIMESTAMP_MALFORMED',
      'XADES_COUNTERSIGNATURE_TARGET',
    ],
    indication: 'TOTAL-FAILED',
    sub: 'FORMAT_FAILURE',
  },
  { codes: ['PKI_CERT_REVOKED'], indication: 'TOTAL-FAILED', sub: 'REVOKED' },
  { codes: ['XADES_SIGNED_DATA_NOT_FOUND'], indication: 'INDETERMINATE', sub: 'SIGNED_DATA_NOT_FOUND' },
  { codes: ['XADES_FORM_UNSUPPORTED'], indication: 'INDETERMINATE', sub: 'SIG_CONSTRAINTS_FAILURE' },
  { codes: ['SEAL_SIGNING_CERT_MISMATCH'], indication: 'INDETERMINATE', sub: 'NO_SIGNING_CERTIFICATE_FOUND' },
  {
    codes: ['PKI_PATH_NOT_FOUND', 'PKI_SIGNATURE_INVALID'],
    indication: 'INDETERMINATE',
    sub: 'NO_CERTIFICATE_CHAIN_FOUND',
  },
  {
    codes: ['PKI_CERT_EXPIRED', 'PKI_CERT_NOT_YET_VALID', 'SEAL_TIMESTAMP_OUT_OF_BOUNDS'],
    indication: 'INDETERMINATE',
    sub: 'OUT_OF_BOUNDS_NO_POE',
  },
  {
    codes: ['PKI_NOT_A_CA', 'PKI_PATH_LENGTH_EXCEEDED'],
    indication: 'INDETERMINATE',
    sub: 'CHAIN_CONSTRAINTS_FAILURE',
  },
  { codes: ['XADES_WEAK_ALGORITHM'], indication: 'INDETERMINATE', sub: 'CRYPTO_CONSTRAINTS_FAILURE' },
  {
    codes: ['SEAL_TIMESTAMP_BEFORE_SIGNING_TIME'],
    indication: 'INDETERMINATE',
    sub: 'TIMESTAMP_ORDER_FAILURE',
  },
  {
    codes: ['PKI_REVOCATION_STALE', 'XADES_REVOCATION_UNKNOWN'],
    indication: 'INDETERMINATE',
    sub: 'TRY_LATER',
  },
  { codes: ['SEAL_TIMESTAMP_INVALID'], indication: 'INDETERMINATE', sub: 'NO_POE' },
];

function finish(r: Omit<XadesSignatureReport, 'indication' | 'subIndication'>): XadesSignatureReport {
  const errors = r.findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return { ...r, indication: 'TOTAL-PASSED' };
  for (const rule of RULES)
    if (errors.some((f) => rule.codes.includes(f.code)))
      return { ...r, indication: rule.indication, subIndication: rule.sub };
  return { ...r, indication: 'INDETERMINATE', subIndication: 'SIG_CONSTRAINTS_FAILURE' };
}

function findQualifyingProperties(signature: Element, findings: Finding[]): QualifyingProps | undefined {
  for (const ns of XADES_NAMESPACES) {
    const all = childElements(signature, NS.ds, 'Object').flatMap((o) =>
      childElements(o, ns, 'QualifyingProperties'),
    );
    if (all.length === 0) continue;
    if (all.length > 1)
      findings.push(err('SEAL_MALFORMED', `${all.length} QualifyingProperties in one signature`));
    const element = all[0]!;
    const sigId = signature.getAttribute('Id');
    // A Target naming another signature is a warning here: it binds nothing cryptographically (the
    // reference to SignedProperties does), and products of the 1.1.1 era wrote it without the "#".
    if (sigId && element.getAttribute('Target') !== `#${sigId}`)
      findings.push(
        warn(
          'SEAL_XADES_TARGET',
          `QualifyingProperties/@Target "${element.getAttribute('Target') ?? ''}" does not name this ds:Signature ("#${sigId}")`,
        ),
      );
    const signedProperties = childElements(element, ns, 'SignedProperties')[0];
    const unsignedSignatureProperties = childElements(element, ns, 'UnsignedProperties').flatMap((u) =>
      childElements(u, ns, 'UnsignedSignatureProperties'),
    )[0];
    return {
      ns,
      element,
      ...(signedProperties ? { signedProperties } : {}),
      ...(unsignedSignatureProperties ? { unsignedSignatureProperties } : {}),
    };
  }
  return undefined;
}

function readSigningTime(qp: QualifyingProps, findings: Finding[]): Date | undefined {
  const ssp = childElements(qp.signedProperties!, qp.ns, 'SignedSignatureProperties')[0];
  const st = ssp && childElements(ssp, qp.ns, 'SigningTime')[0];
  if (!st) return undefined;
  const t = new Date(textOf(st));
  if (Number.isNaN(t.getTime()))
    findings.push(warn('SEAL_MALFORMED', `SigningTime is not a time: ${textOf(st)}`));
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/**
 * The certificate SigningCertificateV2 (EN 319 132-1 §5.2.2) or SigningCertificate (v1, TS 101 903) names: its
 * first Cert's digest over a certificate of the signature. SHA-1 is accepted here: it only identifies a
 * certificate that the signature value then has to verify with.
 */
function signingCertificate(
  qp: QualifyingProps,
  pool: readonly X509Certificate[],
  findings: Finding[],
): X509Certificate | undefined {
  const ssp = childElements(qp.signedProperties!, qp.ns, 'SignedSignatureProperties')[0];
  const sc =
    ssp &&
    [
      ...childElements(ssp, qp.ns, 'SigningCertificateV2'),
      ...childElements(ssp, qp.ns, 'SigningCertificate'),
    ][0];
  if (!sc) {
    // Without the property, a KeyInfo certificate is the only candidate (XAdES 1.1.1 let KeyInfo be signed instead).
    findings.push(
      warn(
        'SEAL_SIGNING_CERT_MISSING',
        'no SigningCertificate(V2) property: the KeyInfo certificate is taken as the signer',
      ),
    );
    return pool[0];
  }
  const certs = childElements(sc, qp.ns, 'Cert');
  const first = certs[0];
  const cd = first && childElements(first, qp.ns, 'CertDigest')[0];
  // XAdES 1.1.1 put DigestMethod and DigestValue of CertDigest in its own namespace, later versions in ds.
  const dm =
    cd && [...childElements(cd, NS.ds, 'DigestMethod'), ...childElements(cd, qp.ns, 'DigestMethod')][0];
  const dv =
    cd && [...childElements(cd, NS.ds, 'DigestValue'), ...childElements(cd, qp.ns, 'DigestValue')][0];
  const digest = dm ? digestOf(dm.getAttribute('Algorithm') ?? '') : undefined;
  if (!dm || !dv || !digest) {
    findings.push(err('SEAL_SIGNING_CERT_MISMATCH', 'SigningCertificate has no readable CertDigest'));
    return undefined;
  }
  const want = Buffer.from(textOf(dv), 'base64');
  const signer = pool.find((c) => createHash(digest.name).update(c.raw).digest().equals(want));
  // Threat: certificate substitution — the key that verifies must be the one the signer committed to.
  if (!signer)
    findings.push(
      err(
        'SEAL_SIGNING_CERT_MISMATCH',
        'no certificate in the signature matches the SigningCertificate digest',
      ),
    );
  return signer;
}

function certificatesIn(parents: readonly Element[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const p of parents) {
    for (const d of childElements(p, NS.ds, 'X509Data')) {
      for (const c of childElements(d, NS.ds, 'X509Certificate')) {
        try {
          out.push(certificateFrom(Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64')));
        } catch {
          // An unreadable certificate is simply not a candidate.
        }
      }
    }
  }
  return out;
}

function embeddedCertificates(usp: Element, ns: string): X509Certificate[] {
  const holders = [
    ...childElements(usp, ns, 'CertificateValues'),
    ...childElements(usp, XADES141, 'TimeStampValidationData').flatMap((t) =>
      childElements(t, ns, 'CertificateValues'),
    ),
  ];
  const out: X509Certificate[] = [];
  for (const h of holders) {
    for (const c of childElements(h, ns, 'EncapsulatedX509Certificate')) {
      try {
        out.push(certificateFrom(Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64')));
      } catch {
        // Unreadable: not a candidate.
      }
    }
  }
  return out;
}

function revocationValues(usp: Element, ns: string): Element[] {
  return [
    ...childElements(usp, ns, 'RevocationValues'),
    ...childElements(usp, XADES141, 'TimeStampValidationData').flatMap((t) =>
      childElements(t, ns, 'RevocationValues'),
    ),
  ];
}

function embeddedCrlsOf(usp: Element, ns: string): Buffer[] {
  return revocationValues(usp, ns)
    .flatMap((r) => childElements(r, ns, 'CRLValues'))
    .flatMap((c) => childElements(c, ns, 'EncapsulatedCRLValue'))
    .map((e) => Buffer.from(textOf(e).replace(/\s+/g, ''), 'base64'));
}

function embeddedOcsp(usp: Element, ns: string): Buffer[] {
  return revocationValues(usp, ns)
    .flatMap((r) => childElements(r, ns, 'OCSPValues'))
    .flatMap((c) => childElements(c, ns, 'EncapsulatedOCSPValue'))
    .map((e) => Buffer.from(textOf(e).replace(/\s+/g, ''), 'base64'));
}

/**
 * Whether an embedded OCSP response (a BasicOCSPResponse, EN 319 132-1 §5.4.2) signed by the issuer or its
 * delegated responder says "good" for `cert` at a time not before `at`: a certificate good then was not
 * revoked at `at` (revocation is final).
 */
function ocspProvesGood(
  responses: readonly Buffer[],
  cert: X509Certificate,
  issuer: X509Certificate,
  at: Date,
  now: Date,
): boolean {
  for (const der of responses) {
    for (const t of [at, now]) {
      try {
        // TS 101 903 writes the whole OCSPResponse there, some producers the BasicOCSPResponse alone.
        const r =
          der[0] === 0x30 && isOcspResponse(der)
            ? verifyOcspResponse(der, { cert, issuer, at: t })
            : verifyBasicOcspResponse(der, { cert, issuer, at: t });
        if (r.status === 'good' && r.thisUpdate.getTime() >= at.getTime() - DEFAULT_SKEW_MS) return true;
      } catch {
        // Not about this certificate, or not valid at t: try the next.
      }
    }
  }
  return false;
}

/** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, … } (a BasicOCSPResponse starts with a SEQUENCE). */
function isOcspResponse(der: Buffer): boolean {
  try {
    return derChildren(readDerElement(der))[0]?.tag === 0x0a;
  } catch {
    return false;
  }
}

function keyValueOf(signature: Element): KeyObject | undefined {
  const keyInfo = childElements(signature, NS.ds, 'KeyInfo')[0];
  const rsa =
    keyInfo &&
    childElements(keyInfo, NS.ds, 'KeyValue').flatMap((k) => childElements(k, NS.ds, 'RSAKeyValue'))[0];
  if (!rsa) return undefined;
  const part = (name: string) =>
    Buffer.from(textOf(childElements(rsa, NS.ds, name)[0] ?? rsa).replace(/\s+/g, ''), 'base64').toString(
      'base64url',
    );
  try {
    return createPublicKey({ key: { kty: 'RSA', n: part('Modulus'), e: part('Exponent') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

function prefixList(c14nEl: Element): string[] {
  const inc = childElements(c14nEl, EXC_C14N, 'InclusiveNamespaces')[0];
  return (inc?.getAttribute('PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

function dedupe(certs: readonly X509Certificate[]): X509Certificate[] {
  const seen = new Set<string>();
  return certs.filter((c) => (seen.has(c.fingerprint256) ? false : (seen.add(c.fingerprint256), true)));
}

/** Canonical octets of `el` under a timestamp's ds:CanonicalizationMethod (default C14N 1.0, XAdES §7.1). */
function c14nOf(el: Element, method: C14nMethod, prefixes: readonly string[]): string {
  return canonicalizeSubtree(el, method, prefixes);
}

type TimestampKind =
  | 'SignatureTimeStamp'
  | 'SigAndRefsTimeStamp'
  | 'SigAndRefsTimeStampV2'
  | 'RefsOnlyTimeStamp'
  | 'RefsOnlyTimeStampV2'
  | 'ArchiveTimeStamp';
const SIG_AND_REFS_INPUT = [
  'SignatureTimeStamp',
  'CompleteCertificateRefs',
  'CompleteRevocationRefs',
  'AttributeCertificateRefs',
  'AttributeRevocationRefs',
  'CompleteCertificateRefsV2',
  'AttributeCertificateRefsV2',
];
const REFS_ONLY_INPUT = [
  'CompleteCertificateRefs',
  'CompleteRevocationRefs',
  'AttributeCertificateRefs',
  'AttributeRevocationRefs',
  'CompleteCertificateRefsV2',
  'AttributeCertificateRefsV2',
];

/**
 * The timestamp properties (EN 319 132-1 §5.3, §5.5; TS 101 903 §7.3, §7.5, §7.7): each token's imprint is
 * recomputed over the input its standard defines, canonicalized with the token's own CanonicalizationMethod.
 * ArchiveTimeStamps are checked newest first at the current time, each valid one proving what it covers at
 * its genTime; the others are checked at that proven time. Returns the proven time of the signature (the
 * genTime of the earliest valid SignatureTimeStamp).
 */
async function checkTimestamps(
  signature: Element,
  qp: QualifyingProps,
  usp: Element,
  refs: readonly ForeignReferenceResult[],
  trust: TrustStore,
  certificates: readonly X509Certificate[],
  now: Date,
  signingTime: Date | undefined,
  skewMs: number,
  findings: Finding[],
): Promise<{ list: { kind: string; genTime?: Date; valid: boolean }[]; poe?: Date; archives: number }> {
  const children = childElements(usp);
  const isTs = (e: Element): TimestampKind | undefined =>
    (e.namespaceURI === qp.ns || e.namespaceURI === XADES141) &&
    [
      'SignatureTimeStamp',
      'SigAndRefsTimeStamp',
      'SigAndRefsTimeStampV2',
      'RefsOnlyTimeStamp',
      'RefsOnlyTimeStampV2',
      'ArchiveTimeStamp',
    ].includes(e.localName ?? '')
      ? (e.localName as TimestampKind)
      : undefined;
  const tokens = children.filter((c) => isTs(c));
  const outcome = new Map<Element, { kind: string; genTime?: Date; valid: boolean }>();
  let poe = now;
  let archives = 0;
  const ordered = [
    ...tokens.filter((t) => isTs(t) === 'ArchiveTimeStamp').reverse(),
    ...tokens.filter((t) => isTs(t) !== 'ArchiveTimeStamp' && isTs(t) !== 'SignatureTimeStamp'),
    ...tokens.filter((t) => isTs(t) === 'SignatureTimeStamp'),
  ];
  let signatureTime: Date | undefined;
  for (const ts of ordered) {
    const kind = isTs(ts)!;
    const c14nEl = childElements(ts, NS.ds, 'CanonicalizationMethod')[0];
    const c14nUri = c14nEl?.getAttribute('Algorithm') ?? C14N;
    const method = c14nMethodOf(c14nUri);
    const encapsulated = childElements(ts, qp.ns, 'EncapsulatedTimeStamp')[0];
    if (!method || !encapsulated) {
      findings.push(
        err(
          'XADES_FORM_UNSUPPORTED',
          `${kind}: ${!method ? `canonicalization ${c14nUri} is not implemented` : 'no EncapsulatedTimeStamp (XMLTimeStamp is not implemented)'}`,
        ),
      );
      outcome.set(ts, { kind, valid: false });
      continue;
    }
    const prefixes = c14nEl ? prefixList(c14nEl) : [];
    const canon = (e: Element) => c14nOf(e, method, prefixes);
    const inputs: Buffer[] = [];
    if (kind === 'SignatureTimeStamp')
      inputs.push(Buffer.from(canon(childElements(signature, NS.ds, 'SignatureValue')[0]!), 'utf8'));
    else if (kind.startsWith('SigAndRefs') || kind.startsWith('RefsOnly')) {
      const names = kind.startsWith('SigAndRefs') ? SIG_AND_REFS_INPUT : REFS_ONLY_INPUT;
      const parts = kind.startsWith('SigAndRefs')
        ? [canon(childElements(signature, NS.ds, 'SignatureValue')[0]!)]
        : [];
      for (const c of children) if (names.includes(c.localName ?? '')) parts.push(canon(c));
      inputs.push(Buffer.from(parts.join(''), 'utf8'));
    } else {
      if (refs.some((r) => !r.octets)) {
        // The archive input holds every referenced data object: without one of them the imprint cannot be recomputed.
        findings.push(
          err(
            'XADES_SIGNED_DATA_NOT_FOUND',
            `${kind}: not checked, the data of a reference is not available`,
          ),
        );
        outcome.set(ts, { kind, valid: false });
        continue;
      }
      inputs.push(...archiveInputs(signature, qp, children, ts, refs, canon));
    }
    const token = Buffer.from(textOf(encapsulated).replace(/\s+/g, ''), 'base64');
    // Several readings of the archive input exist across XAdES versions; the token matches one or none.
    let r = await verifyTimestampToken(token, { data: inputs[0]!, trust, at: poe, certificates });
    for (const alt of inputs.slice(1)) {
      if (r.valid || !r.findings.some((f) => f.code === 'TSA_IMPRINT_MISMATCH')) break;
      r = await verifyTimestampToken(token, { data: alt, trust, at: poe, certificates });
    }
    for (const f of r.findings)
      if (f.severity !== 'info') findings.push(warn(f.code, `${kind}: ${f.message}`));
    const codes = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code));
    let valid = r.valid && !!r.genTime;
    if (!valid) {
      const malformed = r.findings.find((f) => f.code === 'TSA_TOKEN_MALFORMED');
      // BER (indefinite lengths) is valid CMS that our DER reader does not implement: not a failure of the token.
      if (malformed && /unsupported/.test(malformed.message))
        findings.push(
          err(
            'XADES_FORM_UNSUPPORTED',
            `the ${kind} token is BER-encoded, which is not implemented: ${malformed.message}`,
          ),
        );
      else if (codes.has('TSA_TOKEN_MALFORMED'))
        findings.push(err('SEAL_TIMESTAMP_MALFORMED', `the ${kind} token cannot be read`));
      else if (codes.has('TSA_SIGNATURE_INVALID') || codes.has('TSA_SIGNING_CERT_MISMATCH'))
        findings.push(err('SEAL_TIMESTAMP_SIG_FAILURE', `the ${kind} token's signature does not verify`));
      else if (codes.has('TSA_IMPRINT_MISMATCH'))
        findings.push(
          err('SEAL_TIMESTAMP_HASH_FAILURE', `the ${kind} does not cover the signature as it is now`),
        );
      else if (codes.has('PKI_CERT_EXPIRED') || codes.has('PKI_CERT_NOT_YET_VALID'))
        findings.push(
          err(
            'SEAL_TIMESTAMP_OUT_OF_BOUNDS',
            `the ${kind}'s TSA certificate is not valid at ${poe.toISOString()}`,
          ),
        );
      else findings.push(err('SEAL_TIMESTAMP_INVALID', `the ${kind} does not verify`));
    }
    if (
      valid &&
      kind === 'SignatureTimeStamp' &&
      r.genTime &&
      signingTime &&
      r.genTime.getTime() < signingTime.getTime() - skewMs
    ) {
      findings.push(
        err(
          'SEAL_TIMESTAMP_BEFORE_SIGNING_TIME',
          `the SignatureTimeStamp (${r.genTime.toISOString()}) predates SigningTime (${signingTime.toISOString()})`,
        ),
      );
      valid = false;
    }
    outcome.set(ts, { kind, ...(r.genTime ? { genTime: r.genTime } : {}), valid });
    if (valid && r.genTime && kind === 'ArchiveTimeStamp') {
      archives += 1;
      poe = r.genTime;
    }
    if (valid && r.genTime && kind === 'SignatureTimeStamp' && (!signatureTime || r.genTime < signatureTime))
      signatureTime = r.genTime;
  }
  return {
    list: tokens.map((t) => outcome.get(t)!).filter(Boolean),
    ...(signatureTime ? { poe: signatureTime } : {}),
    archives,
  };
}

/**
 * The ArchiveTimeStamp input (EN 319 132-1 §5.5.2.2 / TS 101 903 1.4.1 §8.2): the octets of every reference
 * after its transforms, then SignedInfo, SignatureValue and KeyInfo, then the unsigned signature properties
 * before this token, then ds:Object elements. Which Objects count differs between versions (all but the
 * QualifyingProperties one, or only those no reference covers): both readings are returned.
 */
function archiveInputs(
  signature: Element,
  qp: QualifyingProps,
  uspChildren: readonly Element[],
  ts: Element,
  refs: readonly ForeignReferenceResult[],
  canon: (e: Element) => string,
): Buffer[] {
  const head: Buffer[] = refs.map((r) => r.octets ?? Buffer.alloc(0));
  for (const name of ['SignedInfo', 'SignatureValue', 'KeyInfo'])
    for (const e of childElements(signature, NS.ds, name)) head.push(Buffer.from(canon(e), 'utf8'));
  for (const c of uspChildren) {
    if (c === ts) break;
    head.push(Buffer.from(canon(c), 'utf8'));
  }
  const objects = childElements(signature, NS.ds, 'Object').filter((o) => !isInside(qp.element, o));
  const referenced = new Set(refs.map((r) => r.target).filter((t): t is Element => !!t));
  const unreferenced = objects.filter((o) => !referenced.has(o));
  const withObjects = (list: readonly Element[]) =>
    Buffer.concat([...head, ...list.map((o) => Buffer.from(canon(o), 'utf8'))]);
  return [withObjects(unreferenced), withObjects(objects), withObjects([])];
}

function isInside(node: Node, container: Node): boolean {
  for (let n: Node | null = node; n; n = n.parentNode) if (n === container) return true;
  return false;
}

function asFinding(e: unknown): Finding {
  if (isQerdsError(e)) return err(e.code, e.message);
  return err('SEAL_MALFORMED', `the signature cannot be read: ${(e as Error).message}`);
}
