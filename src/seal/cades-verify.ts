import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { OID as CMS_OID } from '../pki/oids.js';
import {
  readSignedData,
  readSignerInfoAlone,
  type ReadSignedData,
  type ReadSignerInfo,
  type SignerId,
} from '../crypto/signed-data-read.js';
import { verifySignerSignature } from '../crypto/signer-signature.js';
import { essCertIdMatches as essCertMatches, parseFirstEssCertId } from '../timestamp/ess.js';
import {
  certificateFacts,
  certificateNameDer,
  derChildren,
  derOid,
  digestNameOfOid,
  readDerElement,
  verifyCmsSignature,
  type DerElement,
  type Finding,
  type TrustStore,
} from '../pki/index.js';
import { verifyTimestampToken } from '../timestamp/verify.js';
import type { DetachedContent } from './cades-seal.js';
import { issuerSerialV2Der } from './issuer-serial.js';
import { revocationUnknown, withEmbeddedCrls } from '../pki/revocation-status.js';
import { certificateFrom } from '../pki/parse-cache.js';

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

/**
 * What one signature-time-stamp's verification means for the signature: its own findings as warnings, and when
 * it failed, the one seal finding that names how (unreadable, changed, not over this signature, otherwise invalid).
 */
function signatureTimestampFindings(r: {
  readonly valid: boolean;
  readonly findings: readonly Finding[];
}): Finding[] {
  const out = r.findings
    .filter((f) => f.severity !== 'info')
    .map((f) => warn(f.code, `signature-time-stamp: ${f.message}`));
  if (r.valid) return out;
  const codes = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code));
  if (codes.has('TSA_TOKEN_MALFORMED'))
    out.push(err('SEAL_TIMESTAMP_MALFORMED', 'the signature-time-stamp cannot be read'));
  else if (codes.has('TSA_SIGNATURE_INVALID') || codes.has('TSA_SIGNING_CERT_MISMATCH'))
    out.push(err('SEAL_TIMESTAMP_SIG_FAILURE', 'the signature-time-stamp was changed'));
  else if (codes.has('TSA_IMPRINT_MISMATCH'))
    out.push(err('SEAL_TIMESTAMP_HASH_FAILURE', 'the signature-time-stamp is not over this signature'));
  else out.push(err('SEAL_TIMESTAMP_INVALID', 'the signature-time-stamp does not verify'));
  return out;
}

export interface CadesVerification {
  readonly valid: boolean;
  readonly level: 'B-B' | 'B-T' | 'none';
  readonly signingTime?: Date;
  readonly signer?: X509Certificate;
  readonly timestamp?: { readonly genTime: Date; readonly valid: boolean };
  readonly validationTime: Date;
  readonly findings: Finding[];
}

/**
 * Verify a detached CAdES B-B / B-T signature (as made by sealDetachedCms, or by OpenSSL `cms -sign
 * -binary` with signing-certificate-v2) over `content`: message-digest against the content, the
 * signature over the signed attributes, signing-certificate-v2 against the signer certificate, the
 * signature-time-stamp over the signature value (validated at `at`), and the signer's path at the
 * time-stamp's genTime (or at `at` without one). Findings, never exceptions.
 */
export async function verifyDetachedCms(
  cms: Buffer,
  options: { readonly content: DetachedContent; readonly trust: TrustStore; readonly at?: Date },
): Promise<CadesVerification> {
  const now = options.at ?? new Date();
  const findings: Finding[] = [];
  let parsed: ParsedCms;
  try {
    parsed = parseSignedData(cms);
  } catch (e) {
    findings.push(err('SEAL_MALFORMED', `not a CMS SignedData with one SignerInfo: ${(e as Error).message}`));
    return { valid: false, level: 'none', validationTime: now, findings };
  }
  const { signer: si, certificates } = parsed;
  const digestName = digestNameOfOid(si.digestAlgorithm);
  if (digestName !== 'sha256')
    findings.push(err('SEAL_ALGORITHM_UNSUPPORTED', `digest algorithm ${si.digestAlgorithm} is not SHA-256`));
  if (parsed.eContentType !== CMS_OID.data || parsed.hasEContent)
    findings.push(err('SEAL_MALFORMED', 'not a detached signature over id-data'));

  const attr = (oid: string): DerElement | undefined => {
    const values = si.signedAttrs.get(oid);
    if (values && values.length !== 1)
      findings.push(err('SEAL_MALFORMED', `signed attribute ${oid} must have one value`));
    return values?.[0];
  };
  const contentType = attr(CMS_OID.contentType);
  if (!contentType || derOid(contentType) !== CMS_OID.data)
    findings.push(err('SEAL_MALFORMED', 'content-type attribute missing or not id-data'));
  const md = attr(CMS_OID.messageDigest);
  const expected = Buffer.isBuffer(options.content)
    ? createHash('sha256').update(options.content).digest()
    : options.content.sha256;
  if (!md) findings.push(err('SEAL_MALFORMED', 'message-digest attribute missing'));
  else if (md.content.length !== expected.length || !timingSafeEqual(md.content, expected)) {
    findings.push(
      err(
        'SEAL_DIGEST_MISMATCH',
        'the content does not match the message-digest: content changed after sealing',
      ),
    );
  }
  const st = attr(CMS_OID.signingTime);
  const signingTime = st ? parseTime(st) : undefined;
  if (!signingTime)
    findings.push(err('SEAL_SIGNING_TIME_MISSING', 'signing-time attribute missing (EN 319 122-1 B-B)'));

  // The signer: the certificate named by issuerAndSerialNumber that signing-certificate-v2 commits to.
  const signer = certificates.find(
    (c) => certificateNameDer(c, 'issuer').equals(si.issuer) && serialOf(c).equals(si.serial),
  );
  const scv2 = attr(CMS_OID.signingCertificateV2);
  if (!signer)
    findings.push(err('SEAL_SIGNING_CERT_MISMATCH', 'the signer certificate is not in the SignedData'));
  else if (!scv2) findings.push(err('SEAL_SIGNING_CERT_MISSING', 'signing-certificate-v2 attribute missing'));
  else if (!essCertIdMatches(scv2, signer)) {
    // Threat: certificate substitution — the key that verifies must be the one the signer committed to.
    findings.push(
      err('SEAL_SIGNING_CERT_MISMATCH', 'signing-certificate-v2 does not name the signer certificate'),
    );
  }
  if (signer && digestName) {
    const ok = verifyCmsSignature(
      si.signatureAlgorithm,
      digestName,
      si.signedAttrsDer,
      si.signature,
      signer.publicKey,
    );
    if (ok !== true)
      findings.push(
        err(
          ok === false ? 'SEAL_SIGNATURE_INVALID' : 'SEAL_ALGORITHM_UNSUPPORTED',
          'the signature over the signed attributes does not verify',
        ),
      );
  }

  let timestamp: { genTime: Date; valid: boolean } | undefined;
  for (const token of si.unsignedAttrs.get(CMS_OID.signatureTimeStampToken) ?? []) {
    const r = await verifyTimestampToken(token.bytes, { data: si.signature, trust: options.trust, at: now });
    findings.push(...signatureTimestampFindings(r));
    if (r.genTime && (!timestamp || (r.valid && (!timestamp.valid || r.genTime < timestamp.genTime))))
      timestamp = { genTime: r.genTime, valid: r.valid };
  }

  if (signer) {
    const at = timestamp?.valid ? timestamp.genTime : now;
    const path = options.trust.validate(signer, {
      at,
      intermediates: certificates.filter((c) => c !== signer),
    });
    findings.push(...path.findings);
    if (!path.valid)
      findings.push(
        err(
          'SEAL_CERT_PATH_INVALID',
          `the signing certificate is not valid at ${at.toISOString()} under the trust store`,
        ),
      );
  }
  const valid = !findings.some((f) => f.severity === 'error');
  return {
    valid,
    level: !valid ? 'none' : timestamp?.valid ? 'B-T' : 'B-B',
    ...(signingTime ? { signingTime } : {}),
    ...(signer ? { signer } : {}),
    ...(timestamp ? { timestamp } : {}),
    validationTime: now,
    findings,
  };
}

interface ParsedCms {
  readonly eContentType: string;
  readonly hasEContent: boolean;
  readonly certificates: X509Certificate[];
  readonly signer: {
    readonly issuer: Buffer;
    readonly serial: Buffer;
    readonly digestAlgorithm: string;
    readonly signedAttrs: Map<string, DerElement[]>;
    readonly signedAttrsDer: Buffer;
    readonly signatureAlgorithm: string;
    readonly signature: Buffer;
    readonly unsignedAttrs: Map<string, DerElement[]>;
  };
}

/** ContentInfo → SignedData, kept as the received DER slices (what was signed is verified as received). */
function parseSignedData(der: Buffer): ParsedCms {
  const ci = readDerElement(der);
  if (ci.bytes.length !== der.length) throw new Error('trailing bytes after the ContentInfo');
  const [type, explicit] = derChildren(ci);
  if (!type || derOid(type) !== CMS_OID.signedData || explicit?.tag !== 0xa0)
    throw new Error('contentType is not signedData');
  const sd = derChildren(derChildren(explicit)[0] as DerElement);
  const encap = derChildren(sd[2] as DerElement);
  const certificates: X509Certificate[] = [];
  let infos: DerElement | undefined;
  for (const el of sd.slice(3)) {
    if (el.tag === 0xa0) for (const c of derChildren(el)) certificates.push(certificateFrom(c.bytes));
    else if (el.tag === 0x31) infos = el;
  }
  const signerInfos = infos ? derChildren(infos) : [];
  if (signerInfos.length !== 1) throw new Error(`${signerInfos.length} SignerInfos`);
  const si = derChildren(signerInfos[0] as DerElement);
  const sid = si[1];
  if (sid?.tag !== 0x30) throw new Error('only issuerAndSerialNumber signer identifiers are supported');
  const [issuer, serial] = derChildren(sid);
  const attrsEl = si[3];
  if (attrsEl?.tag !== 0xa0) throw new Error('signed attributes are required');
  const rest = si.slice(4);
  const unsignedEl = rest[2]?.tag === 0xa1 ? rest[2] : undefined;
  return {
    eContentType: derOid(encap[0] as DerElement),
    hasEContent: encap.length > 1,
    certificates,
    signer: {
      issuer: Buffer.from((issuer as DerElement).bytes),
      serial: Buffer.from((serial as DerElement).bytes),
      digestAlgorithm: derOid(derChildren(si[2] as DerElement)[0] as DerElement),
      signedAttrs: attributes(attrsEl),
      signedAttrsDer: Buffer.concat([Buffer.from([0x31]), attrsEl.bytes.subarray(1)]),
      signatureAlgorithm: derOid(derChildren(rest[0] as DerElement)[0] as DerElement),
      signature: Buffer.from((rest[1] as DerElement).content),
      unsignedAttrs: unsignedEl ? attributes(unsignedEl) : new Map(),
    },
  };
}

function attributes(set: DerElement): Map<string, DerElement[]> {
  const out = new Map<string, DerElement[]>();
  for (const attr of derChildren(set)) {
    const [oid, values] = derChildren(attr);
    const key = derOid(oid as DerElement);
    // RFC 5652 §5.3: an attribute type appears once.
    if (out.has(key)) throw new Error(`attribute ${key} appears twice`);
    out.set(key, derChildren(values as DerElement));
  }
  return out;
}

function serialOf(cert: X509Certificate): Buffer {
  const [tbs] = derChildren(readDerElement(cert.raw));
  const parts = tbs ? derChildren(tbs) : [];
  return Buffer.from((parts[parts[0]?.tag === 0xa0 ? 1 : 0] as DerElement).bytes);
}

/** SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 }: the first names the signer (SHA-256 only). */
function essCertIdMatches(value: DerElement, cert: X509Certificate): boolean {
  const first = derChildren(derChildren(value)[0] as DerElement)[0];
  if (!first) return false;
  const fields = derChildren(first);
  // hashAlgorithm is DEFAULT sha256 and then absent; another algorithm is not accepted here.
  if (fields[0]?.tag === 0x30 && derOid(derChildren(fields[0])[0] as DerElement) !== CMS_OID.sha256)
    return false;
  const hash = fields.find((f) => f.tag === 0x04);
  const issuerSerial = fields.find((f, i) => i > 0 && f.tag === 0x30);
  if (!hash || !hash.content.equals(createHash('sha256').update(cert.raw).digest())) return false;
  return !issuerSerial || issuerSerial.bytes.equals(issuerSerialV2Der(cert));
}

function parseTime(el: DerElement): Date | undefined {
  const s = el.content.toString('latin1');
  const m =
    el.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const year = el.tag === 0x17 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  const date = new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Names of the signed and unsigned attributes a CAdES report lists (EN 319 122-1 §5.2, §5.3). */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  [CMS_OID.contentType]: 'content-type',
  [CMS_OID.messageDigest]: 'message-digest',
  [CMS_OID.signingTime]: 'signing-time',
  [CMS_OID.signingCertificate]: 'signing-certificate',
  [CMS_OID.signingCertificateV2]: 'signing-certificate-v2',
  [CMS_OID.signatureTimeStampToken]: 'signature-time-stamp',
  '1.2.840.113549.1.9.16.2.15': 'signature-policy-identifier',
  '1.2.840.113549.1.9.16.2.16': 'commitment-type-indication',
  '1.2.840.113549.1.9.16.2.20': 'content-time-stamp',
  '1.2.840.113549.1.9.16.2.4': 'content-hints',
  '1.2.840.113549.1.9.52': 'cms-algorithm-protection',
  '1.2.840.113549.1.9.16.2.21': 'complete-certificate-references',
  '1.2.840.113549.1.9.16.2.22': 'complete-revocation-references',
  '1.2.840.113549.1.9.16.2.23': 'certificate-values',
  '1.2.840.113549.1.9.16.2.24': 'revocation-values',
  '0.4.0.1733.2.4': 'archive-time-stamp-v3',
  '0.4.0.19122.1.1': 'signer-attributes-v2',
  '1.2.840.113549.1.9.6': 'countersignature',
};

/** What {@link verifyCadesSignature} found; evidence/verify-token.ts adds the EN 319 102-1 indication. */
export interface CadesCheck {
  /** EN 319 122-1 form found: B-T with a signature-time-stamp, B-B with signing-certificate(-v2), else plain CMS. */
  readonly level: 'CAdES-B-T' | 'CAdES-B-B' | 'CMS';
  /** Whether the content is inside (enveloping / attached) or given beside (detached). */
  readonly attached: boolean;
  readonly contentType?: string;
  /** Whether the message-digest was compared with the content (attached, or detached with --document). */
  readonly contentChecked: boolean;
  readonly ber: boolean;
  readonly signer?: X509Certificate;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
  readonly signingTime?: Date;
  readonly signedAttributes: readonly string[];
  readonly unsignedAttributes: readonly string[];
  readonly timestamp?: { readonly genTime: Date; readonly valid: boolean; readonly tsa?: X509Certificate };
  readonly validationTime: Date;
  readonly findings: Finding[];
  /**
   * Every signature of the document, when there is more than one (parallel SignerInfos, countersignatures):
   * the fields above are the first signer's; the findings are all of theirs.
   */
  readonly signers?: readonly CadesSignerCheck[];
}

export interface VerifyCadesOptions {
  readonly trust: TrustStore;
  readonly at?: Date;
  /** The signed document of a detached signature (or, for an attached one, a copy that must be the same). */
  readonly content?: Buffer;
  /** The signer must be this certificate; it is also used when the SignedData does not carry it. */
  readonly expectedCertificate?: X509Certificate;
}

/**
 * Verify a CMS / CAdES signature made by any product (EN 319 122-1 baseline, RFC 5652): attached or detached,
 * DER or BER, RSA PKCS#1 v1.5 / RSASSA-PSS / ECDSA with SHA-2: content-type and message-digest against the
 * content, the signature over the signed attributes, ESS signing-certificate(-v2), signature-time-stamps over
 * the signature value, and the signer's path at the earliest valid time-stamp's genTime (or at `at`) with the
 * CRLs of the document and the trust store. Verdict per EN 319 102-1 (see evidence/indication.ts): a check
 * that ran and failed is TOTAL-FAILED; an algorithm not implemented, a missing content or an unknown
 * revocation status is INDETERMINATE. Findings, never exceptions.
 */
export async function verifyCadesSignature(cms: Buffer, options: VerifyCadesOptions): Promise<CadesCheck> {
  try {
    return await checkCades(cms, options);
  } catch (e) {
    // An attribute value that does not parse (BER inside signed attributes, truncated values): a format failure.
    const finding = err('SEAL_MALFORMED', `the CMS signature cannot be read: ${(e as Error).message}`);
    return {
      level: 'CMS',
      attached: false,
      contentChecked: false,
      ber: false,
      signedAttributes: [],
      unsignedAttributes: [],
      validationTime: options.at ?? new Date(),
      findings: [finding],
    };
  }
}

async function checkCades(cms: Buffer, options: VerifyCadesOptions): Promise<CadesCheck> {
  const now = options.at ?? new Date();
  const findings: Finding[] = [];
  const done = (rest: Partial<CadesCheck>): CadesCheck => ({
    level: 'CMS',
    attached: false,
    contentChecked: false,
    ber: false,
    signedAttributes: [],
    unsignedAttributes: [],
    ...rest,
    validationTime: now,
    findings,
  });
  let sd: ReadSignedData;
  try {
    sd = readSignedData(cms);
  } catch (e) {
    findings.push(err('SEAL_MALFORMED', `not a CMS SignedData: ${(e as Error).message}`));
    return done({});
  }
  const attached = sd.eContent !== undefined;
  const base = { attached, ber: sd.ber, contentType: sd.eContentType };
  if (sd.signerInfos.length === 0) {
    findings.push(err('SEAL_MALFORMED', 'SignedData without a SignerInfo'));
    return done(base);
  }
  if (attached && options.content && !options.content.equals(sd.eContent!)) {
    findings.push(
      err('SEAL_DIGEST_MISMATCH', 'the document given differs from the content inside the signature'),
    );
  }
  // Parallel signers (several SignerInfos, RFC 5652 §5.1) are each verified on their own, and so is every
  // countersignature (RFC 5652 §11.4, over its parent's signature value). The document's findings are all of
  // theirs (the others' prefixed with who they are about), so the verdict is that of the weakest signature: a
  // document counts as valid only when every signature on it is. `signers` reports each.
  const content = sd.eContent ?? options.content;
  const signers: CadesSignerCheck[] = [];
  for (const [i, si] of sd.signerInfos.entries()) {
    signers.push(
      await checkSigner(sd, si, options, now, content, { role: 'signer', label: `signer ${i + 1}` }),
    );
  }
  const first = signers[0]!;
  findings.push(...first.findings);
  const prefixed = (c: CadesSignerCheck): Finding[] =>
    c.findings.map((f) => ({ ...f, message: `${c.label}: ${f.message}` }));
  for (const c of signers.slice(1)) findings.push(...prefixed(c));
  const counters = (c: CadesSignerCheck): CadesSignerCheck[] =>
    c.countersignatures.flatMap((x) => [x, ...counters(x)]);
  for (const c of signers.flatMap(counters)) findings.push(...prefixed(c));
  const { findings: _f, label: _l, role: _r, countersignatures: _c, ...firstFields } = first;
  return done({
    ...base,
    ...firstFields,
    ...(signers.length > 1 || first.countersignatures.length > 0 ? { signers } : {}),
  });
}

/** One signature of a SignedData: a SignerInfo, or a countersignature over its parent's signature value. */
export interface CadesSignerCheck extends Pick<
  CadesCheck,
  | 'level'
  | 'contentChecked'
  | 'signer'
  | 'signatureAlgorithm'
  | 'digestAlgorithm'
  | 'signingTime'
  | 'signedAttributes'
  | 'unsignedAttributes'
  | 'timestamp'
> {
  /** `signer 2`, `countersignature 1 of signer 1`… */
  readonly label: string;
  readonly role: 'signer' | 'countersignature';
  readonly countersignatures: readonly CadesSignerCheck[];
  /** This signature's own findings (a countersignature's are not its parent's). */
  readonly findings: readonly Finding[];
}

const COUNTERSIGNATURE_OID = '1.2.840.113549.1.9.6';

async function checkSigner(
  sd: ReadSignedData,
  si: ReadSignerInfo,
  options: VerifyCadesOptions,
  now: Date,
  content: Buffer | undefined,
  who: { readonly role: 'signer' | 'countersignature'; readonly label: string },
  depth = 0,
): Promise<CadesSignerCheck> {
  const findings: Finding[] = [];
  const names = (m: ReadonlyMap<string, readonly Buffer[]>) =>
    [...m.keys()].map((o) => ATTRIBUTE_NAMES[o] ?? o);
  const lists = { signedAttributes: names(si.signedAttrs), unsignedAttributes: names(si.unsignedAttrs) };
  const digestName = digestNameOfOid(si.digestAlgorithm);
  if (!digestName)
    findings.push(
      err(
        'CMS_ALGORITHM_UNSUPPORTED',
        `digest algorithm ${si.digestAlgorithm} is not implemented (SHA-2 only): the message-digest was not checked`,
      ),
    );

  const attr = (oid: string): DerElement | undefined => {
    const values = si.signedAttrs.get(oid);
    if (values && values.length !== 1)
      findings.push(
        err('SEAL_MALFORMED', `signed attribute ${ATTRIBUTE_NAMES[oid] ?? oid} must have one value`),
      );
    return values?.[0] ? readDerElement(values[0]) : undefined;
  };
  let signingTime: Date | undefined;
  if (si.signedAttrsDer) {
    const contentType = attr(CMS_OID.contentType);
    // RFC 5652 §11.1: the signed content-type must be eContentType, else the signature could be replayed on
    // other content. §11.4: a countersignature has no content-type attribute (its content is a signature value).
    if (who.role === 'countersignature') {
      if (contentType)
        findings.push(err('SEAL_MALFORMED', 'a countersignature must not carry a content-type attribute'));
    } else if (!contentType) findings.push(err('SEAL_MALFORMED', 'content-type signed attribute missing'));
    else if (derOid(contentType) !== sd.eContentType)
      findings.push(err('SEAL_SIGNATURE_INVALID', 'the signed content-type is not the eContentType'));
    const md = attr(CMS_OID.messageDigest);
    if (!md) findings.push(err('SEAL_MALFORMED', 'message-digest signed attribute missing'));
    else if (!content)
      findings.push(
        err(
          'CMS_CONTENT_NOT_GIVEN',
          'detached signature: give the signed document (--document) to check the message-digest',
        ),
      );
    else if (digestName) {
      const expected = createHash(digestName).update(content).digest();
      if (md.content.length !== expected.length || !timingSafeEqual(md.content, expected)) {
        findings.push(
          err(
            'SEAL_DIGEST_MISMATCH',
            'the content does not match the message-digest: it changed after signing',
          ),
        );
      }
    }
    const st = attr(CMS_OID.signingTime);
    signingTime = st ? parseTime(st) : undefined;
  } else if (!content) {
    findings.push(
      err(
        'CMS_CONTENT_NOT_GIVEN',
        'detached signature without signed attributes: give the signed document (--document)',
      ),
    );
  }

  // The signer: named by the SignerIdentifier, among the document's certificates and the one given.
  const candidates = [
    ...sd.certificates,
    ...(options.expectedCertificate ? [options.expectedCertificate] : []),
    ...options.trust.anchors,
  ];
  const signer = candidates.find((c) => identifies(si.sid, c));
  if (!signer)
    findings.push(
      err(
        'SEAL_SIGNING_CERT_MISMATCH',
        'the signer certificate is neither in the SignedData nor given (--cert)',
      ),
    );
  // Threat: a signature by another key than the one the caller expects passing as that party's.
  if (
    signer &&
    options.expectedCertificate &&
    signer.fingerprint256 !== options.expectedCertificate.fingerprint256
  ) {
    findings.push(
      err(
        'CMS_SIGNER_NOT_EXPECTED',
        `signed by ${signer.subject.replace(/\n/g, ', ')}, not by the certificate given with --cert`,
      ),
    );
  }
  let essBound = false;
  if (signer && si.signedAttrsDer) {
    const v2 = si.signedAttrs.get(CMS_OID.signingCertificateV2)?.[0];
    const v1 = si.signedAttrs.get(CMS_OID.signingCertificate)?.[0];
    if (v2 || v1) {
      try {
        const id = parseFirstEssCertId((v2 ?? v1)!, v2 ? 2 : 1);
        // Threat: certificate substitution — the key that verifies must be the one the signer committed to.
        if (!essCertMatches(id, signer))
          findings.push(
            err(
              'SEAL_SIGNING_CERT_MISMATCH',
              `signing-certificate${v2 ? '-v2' : ''} does not name the signer certificate`,
            ),
          );
        else essBound = true;
      } catch (e) {
        findings.push(err('SEAL_MALFORMED', `signing-certificate attribute: ${(e as Error).message}`));
      }
    } else
      findings.push(
        warn(
          'CADES_SIGNING_CERT_ATTRIBUTE_MISSING',
          'no signing-certificate(-v2) attribute: a CMS signature, not CAdES baseline (EN 319 122-1 §5.2.2)',
        ),
      );
  }
  if (signer && digestName) {
    const data = si.signedAttrsDer ?? content;
    if (data) {
      const ok = verifySignerSignature(
        si.signatureAlgorithm,
        si.signatureParameters,
        digestName,
        data,
        si.signature,
        signer.publicKey,
      );
      if ('unsupported' in ok)
        findings.push(
          err(
            'CMS_ALGORITHM_UNSUPPORTED',
            `${ok.unsupported} is not implemented: the signature was not checked`,
          ),
        );
      else if (!ok.ok)
        findings.push(
          err('SEAL_SIGNATURE_INVALID', 'the signature over the signed attributes does not verify'),
        );
    }
  }

  const trust = withEmbeddedCrls(options.trust, sd.crls);
  let timestamp: { genTime: Date; valid: boolean; tsa?: X509Certificate } | undefined;
  for (const token of si.unsignedAttrs.get(CMS_OID.signatureTimeStampToken) ?? []) {
    const r = await verifyTimestampToken(token, { data: si.signature, trust, at: now });
    findings.push(...signatureTimestampFindings(r));
    if (r.genTime && (!timestamp || (r.valid && (!timestamp.valid || r.genTime < timestamp.genTime)))) {
      timestamp = {
        genTime: r.genTime,
        valid: r.valid,
        ...(r.tsaCertificate ? { tsa: r.tsaCertificate } : {}),
      };
    }
  }

  if (signer) {
    const at = timestamp?.valid ? timestamp.genTime : now;
    const path = trust.validate(signer, { at, intermediates: sd.certificates.filter((c) => c !== signer) });
    findings.push(...path.findings);
    if (!path.valid)
      findings.push(
        err(
          'SEAL_CERT_PATH_INVALID',
          `the signer certificate is not valid at ${at.toISOString()} under the trust anchors given`,
        ),
      );
    else findings.push(...revocationUnknown(path.findings, signer, 'signer'));
  }
  // Countersignatures of this signature: each verified over this signature value (RFC 5652 §11.4).
  const countersignatures: CadesSignerCheck[] = [];
  for (const [i, value] of (si.unsignedAttrs.get(COUNTERSIGNATURE_OID) ?? []).entries()) {
    const label = `countersignature ${i + 1} of ${who.label}`;
    let csi: ReadSignerInfo;
    try {
      csi = readSignerInfoAlone(value);
    } catch (e) {
      findings.push(err('SEAL_MALFORMED', `${label} cannot be read: ${(e as Error).message}`));
      continue;
    }
    if (depth >= 4) {
      findings.push(err('SEAL_MALFORMED', `${label}: countersignatures nested deeper than 4 levels`));
      continue;
    }
    countersignatures.push(
      await checkSigner(sd, csi, options, now, si.signature, { role: 'countersignature', label }, depth + 1),
    );
  }
  // The form found (EN 319 122-1 §5: B-B has signing-certificate(-v2), B-T a signature-time-stamp); the verdict is the findings'.
  const hasEss =
    si.signedAttrs.has(CMS_OID.signingCertificateV2) || si.signedAttrs.has(CMS_OID.signingCertificate);
  return {
    ...who,
    ...lists,
    level: !hasEss || (signer && !essBound) ? 'CMS' : timestamp ? 'CAdES-B-T' : 'CAdES-B-B',
    contentChecked:
      content !== undefined && digestName !== undefined && si.signedAttrs.has(CMS_OID.messageDigest),
    ...(signer ? { signer } : {}),
    signatureAlgorithm: si.signatureAlgorithm,
    digestAlgorithm: si.digestAlgorithm,
    ...(signingTime ? { signingTime } : {}),
    ...(timestamp ? { timestamp } : {}),
    countersignatures,
    findings,
  };
}

function identifies(sid: SignerId, cert: X509Certificate): boolean {
  if ('keyId' in sid) {
    const ski = certificateFacts(cert).subjectKeyIdentifier;
    return ski !== undefined && Buffer.from(ski, 'hex').equals(sid.keyId);
  }
  return certificateNameDer(cert, 'issuer').equals(sid.issuer) && serialOf(cert).equals(sid.serial);
}
