import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { CMS_OID } from '../crypto/index.js';
import {
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
import { verifyTimestampToken } from '../timestamp/index.js';
import type { DetachedContent } from './cades-seal.js';
import { issuerSerialV2Der } from './issuer-serial.js';
import { certificateFrom } from '../pki/parse-cache.js';

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

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
  if (digestName !== 'sha256') findings.push(err('SEAL_ALGORITHM_UNSUPPORTED', `digest algorithm ${si.digestAlgorithm} is not SHA-256`));
  if (parsed.eContentType !== CMS_OID.data || parsed.hasEContent) findings.push(err('SEAL_MALFORMED', 'not a detached signature over id-data'));

  const attr = (oid: string): DerElement | undefined => {
    const values = si.signedAttrs.get(oid);
    if (values && values.length !== 1) findings.push(err('SEAL_MALFORMED', `signed attribute ${oid} must have one value`));
    return values?.[0];
  };
  const contentType = attr(CMS_OID.contentType);
  if (!contentType || derOid(contentType) !== CMS_OID.data) findings.push(err('SEAL_MALFORMED', 'content-type attribute missing or not id-data'));
  const md = attr(CMS_OID.messageDigest);
  const expected = Buffer.isBuffer(options.content) ? createHash('sha256').update(options.content).digest() : options.content.sha256;
  if (!md) findings.push(err('SEAL_MALFORMED', 'message-digest attribute missing'));
  else if (md.content.length !== expected.length || !timingSafeEqual(md.content, expected)) {
    findings.push(err('SEAL_DIGEST_MISMATCH', 'the content does not match the message-digest: content changed after sealing'));
  }
  const st = attr(CMS_OID.signingTime);
  const signingTime = st ? parseTime(st) : undefined;
  if (!signingTime) findings.push(err('SEAL_SIGNING_TIME_MISSING', 'signing-time attribute missing (EN 319 122-1 B-B)'));

  // The signer: the certificate named by issuerAndSerialNumber that signing-certificate-v2 commits to.
  const signer = certificates.find((c) => certificateNameDer(c, 'issuer').equals(si.issuer) && serialOf(c).equals(si.serial));
  const scv2 = attr(CMS_OID.signingCertificateV2);
  if (!signer) findings.push(err('SEAL_SIGNING_CERT_MISMATCH', 'the signer certificate is not in the SignedData'));
  else if (!scv2) findings.push(err('SEAL_SIGNING_CERT_MISSING', 'signing-certificate-v2 attribute missing'));
  else if (!essCertIdMatches(scv2, signer)) {
    // Threat: certificate substitution — the key that verifies must be the one the signer committed to.
    findings.push(err('SEAL_SIGNING_CERT_MISMATCH', 'signing-certificate-v2 does not name the signer certificate'));
  }
  if (signer && digestName) {
    const ok = verifyCmsSignature(si.signatureAlgorithm, digestName, si.signedAttrsDer, si.signature, signer.publicKey);
    if (ok !== true) findings.push(err(ok === false ? 'SEAL_SIGNATURE_INVALID' : 'SEAL_ALGORITHM_UNSUPPORTED', 'the signature over the signed attributes does not verify'));
  }

  let timestamp: { genTime: Date; valid: boolean } | undefined;
  for (const token of si.unsignedAttrs.get(CMS_OID.signatureTimeStampToken) ?? []) {
    const r = await verifyTimestampToken(token.bytes, { data: si.signature, trust: options.trust, at: now });
    for (const f of r.findings) if (f.severity !== 'info') findings.push(warn(f.code, `signature-time-stamp: ${f.message}`));
    const codes = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code));
    if (!r.valid) {
      if (codes.has('TSA_TOKEN_MALFORMED')) findings.push(err('SEAL_TIMESTAMP_MALFORMED', 'the signature-time-stamp cannot be read'));
      else if (codes.has('TSA_SIGNATURE_INVALID') || codes.has('TSA_SIGNING_CERT_MISMATCH')) findings.push(err('SEAL_TIMESTAMP_SIG_FAILURE', 'the signature-time-stamp was changed'));
      else if (codes.has('TSA_IMPRINT_MISMATCH')) findings.push(err('SEAL_TIMESTAMP_HASH_FAILURE', 'the signature-time-stamp is not over this signature'));
      else findings.push(err('SEAL_TIMESTAMP_INVALID', 'the signature-time-stamp does not verify'));
    }
    if (r.genTime && (!timestamp || (r.valid && (!timestamp.valid || r.genTime < timestamp.genTime)))) timestamp = { genTime: r.genTime, valid: r.valid };
  }

  if (signer) {
    const at = timestamp?.valid ? timestamp.genTime : now;
    const path = options.trust.validate(signer, { at, intermediates: certificates.filter((c) => c !== signer) });
    findings.push(...path.findings);
    if (!path.valid) findings.push(err('SEAL_CERT_PATH_INVALID', `the signing certificate is not valid at ${at.toISOString()} under the trust store`));
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
  if (!type || derOid(type) !== CMS_OID.signedData || explicit?.tag !== 0xa0) throw new Error('contentType is not signedData');
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
  if (fields[0]?.tag === 0x30 && derOid(derChildren(fields[0])[0] as DerElement) !== CMS_OID.sha256) return false;
  const hash = fields.find((f) => f.tag === 0x04);
  const issuerSerial = fields.find((f, i) => i > 0 && f.tag === 0x30);
  if (!hash || !hash.content.equals(createHash('sha256').update(cert.raw).digest())) return false;
  return !issuerSerial || issuerSerial.bytes.equals(issuerSerialV2Der(cert));
}

function parseTime(el: DerElement): Date | undefined {
  const s = el.content.toString('latin1');
  const m = el.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const year = el.tag === 0x17 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
