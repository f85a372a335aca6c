import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QerdsError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/ports.js';
import { crlCovers, normaliseSerial, parseCrls, type ParsedCrl } from './crl.js';
import { fixedCrlSource, isCrlSource, type CrlSource } from './crl-set.js';
import { parsePemCertificates } from './identity.js';
import type { Finding, PathValidationResult, TrustStore } from './types.js';
import { certificateFacts } from './certificate-facts.js';
import { KeyUsageFlags } from './key-usage.js';

export interface TrustStoreOptions {
  /**
   * CRLs (DER or PEM, one or more per buffer) consulted for every certificate on a path; a `CrlSource` (a
   * `CrlSet`) is read at each validation, so CRLs a refresh replaced count at once. @defaultValue []
   */
  readonly crls?: readonly (Buffer | string)[] | CrlSource;
  /**
   * CRLs that came with the signed object (XAdES RevocationValues): they count like `crls` for revocations and
   * for freshness, but when only these exist for an issuer and none covers the validation time, the status
   * is "not checked" (as without any CRL), not stale: they are the data of their time, not the verifier's.
   * @defaultValue []
   */
  readonly embeddedCrls?: readonly (Buffer | string)[];
  /** Source of the default validation time. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Longest path, leaf and anchor included. @defaultValue 8 */
  readonly maxPathLength?: number;
}

const error = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const info = (code: string, message: string): Finding => ({ code, message, severity: 'info' });

/**
 * Whether `issuer`'s key verifies the signature on `cert`, remembered per certificate object: certificates are
 * parsed once per content (parse-cache), so the AP's own and its peers' seal, TSA and AS4 certificates come back
 * as the same objects on every message, and each of their paths was otherwise verified again (an RSA-3072 check
 * a time, several per message). The answer depends on the two certificates' bytes alone.
 */
const signatureChecks = new WeakMap<X509Certificate, Map<string, boolean>>();
function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  let known = signatureChecks.get(cert);
  if (!known) signatureChecks.set(cert, (known = new Map()));
  // Keyed by the issuer's whole certificate (its fingerprint), not its name: a look-alike CA is another entry.
  const key = issuer.fingerprint256;
  let verified = known.get(key);
  if (verified === undefined) known.set(key, (verified = cert.verify(issuer.publicKey)));
  return verified;
}

/**
 * A trust store over `anchors` (RFC 5280 path validation, simplified): builds leaf → intermediates → anchor
 * by issuer name and key identifiers, verifies each signature, checks validity periods and CA constraints at
 * the validation time, and revocation against the CRLs given.
 *
 * Revocation has signing-time semantics: a certificate revoked at or before `at` is invalid; one revoked after
 * `at` still validates (with an info finding), since what it signed before its revocation stays valid.
 * Freshness: a CRL proves a certificate unrevoked at `at` only when it covers `at` (crlCovers); when every CRL
 * of the issuer is older (nextUpdate before `at`), the status is unknown: PKI_REVOCATION_STALE, an error
 * (EN 319 102-1: INDETERMINATE / TRY_LATER). A revocation listed in any CRL of the issuer counts, stale or not.
 */
export function createTrustStore(
  anchors: readonly X509Certificate[],
  options: TrustStoreOptions = {},
): TrustStore {
  const clock = options.clock ?? systemClock;
  const maxPathLength = options.maxPathLength ?? 8;
  const anchorList = Object.freeze([...anchors]);
  const anchorPrints = new Set(anchorList.map((a) => a.fingerprint256));
  const crls: CrlSource = isCrlSource(options.crls) ? options.crls : fixedCrlSource(options.crls ?? []);
  // Whether a CRL came embedded goes with each entry, not with the parsed object: parsing is memoised by
  // content, so the same CRL given both ways is one object, and it still counts once as each.
  const embeddedCrls = (options.embeddedCrls ?? []).flatMap((c) => parseCrls(c));
  // Read at each use: a live source (CrlSet) changes while the AP runs.
  const allCrls = (): Array<{ readonly crl: ParsedCrl; readonly embedded: boolean }> => [
    ...crls.parsed.map((crl) => ({ crl, embedded: false })),
    ...embeddedCrls.map((crl) => ({ crl, embedded: true })),
  ];

  function validate(
    leaf: X509Certificate,
    opts: { at?: Date; intermediates?: readonly X509Certificate[] } = {},
  ): PathValidationResult {
    const at = opts.at ?? clock.now();
    const search: PathSearch = {
      pool: [...anchorList, ...(opts.intermediates ?? [])],
      anchorPrints,
      maxPathLength,
      signatureFailed: false,
    };
    const path = buildPath(search, leaf, new Set());
    if (!path) {
      const findings = search.signatureFailed
        ? [
            error(
              'PKI_SIGNATURE_INVALID',
              `the signature on ${leaf.subject} (or an issuer's) does not verify`,
            ),
          ]
        : [
            error(
              'PKI_PATH_NOT_FOUND',
              `no path from ${leaf.subject} (issuer ${leaf.issuer}) to a trust anchor`,
            ),
          ];
      return { valid: false, path: [], findings };
    }

    const findings: Finding[] = [];
    path.forEach((cert, i) => {
      findings.push(...checkValidity(cert, at));
      if (i > 0) findings.push(...checkIssuer(cert, i - 1));
      const issuer = path[i + 1];
      // The anchor is trusted by configuration; everything below it is checked for revocation.
      if (issuer) findings.push(...checkRevocation(cert, issuer, at));
    });
    return { valid: !findings.some((f) => f.severity === 'error'), path, findings };
  }

  function checkRevocation(cert: X509Certificate, issuer: X509Certificate, at: Date): Finding[] {
    const findings: Finding[] = [];
    let checked = false;
    let newestStale: ParsedCrl | undefined;
    for (const { crl, embedded } of allCrls()) {
      if (!crl.isNamedBy(issuer)) continue;
      const signed = crl.isSignedBy(issuer);
      if (signed !== true) {
        // A CRL not signed by the issuer is ignored: trusting it would let anyone revoke (or seem to vouch for) certificates.
        findings.push({
          code: 'PKI_CRL_SIGNATURE_INVALID',
          message: `a CRL naming ${crl.issuer} is not signed by that CA (${signed === false ? 'bad signature' : 'unsupported algorithm'}); ignored`,
          severity: 'warning',
        });
        continue;
      }
      if (crlCovers(crl, at)) checked = true;
      else if (!embedded && (!newestStale || crl.thisUpdate > newestStale.thisUpdate)) newestStale = crl;
      const revokedAt = crl.revoked.get(normaliseSerial(cert.serialNumber));
      if (!revokedAt) continue;
      if (revokedAt.getTime() <= at.getTime()) {
        findings.push(error('PKI_CERT_REVOKED', `${cert.subject} was revoked on ${revokedAt.toISOString()}`));
      } else {
        findings.push(
          info(
            'PKI_CERT_REVOKED_LATER',
            `${cert.subject} was revoked on ${revokedAt.toISOString()}, after ${at.toISOString()}`,
          ),
        );
      }
    }
    if (findings.some((f) => f.code === 'PKI_CERT_REVOKED')) return findings;
    if (!checked && newestStale) {
      findings.push(
        error(
          'PKI_REVOCATION_STALE',
          `the newest CRL of ${issuer.subject} was due for renewal on ${newestStale.nextUpdate?.toISOString() ?? newestStale.thisUpdate.toISOString()}, before ${at.toISOString()}: the status of ${cert.subject} then is unknown`,
        ),
      );
    } else if (!checked) {
      findings.push(info('PKI_REVOCATION_NOT_CHECKED', `no CRL from ${issuer.subject} for ${cert.subject}`));
    }
    return findings;
  }

  return Object.freeze({
    anchors: anchorList,
    get crls() {
      return crls.current;
    },
    validate,
  });
}

/** notBefore and notAfter as dates, read once per X509Certificate object (immutable); compared at every validation. */
const validityPeriods = new WeakMap<X509Certificate, { readonly from: Date; readonly to: Date }>();

/** One path search of validate: the candidate issuers, the anchors, and whether an issuer's signature failed. */
interface PathSearch {
  readonly pool: readonly X509Certificate[];
  readonly anchorPrints: ReadonlySet<string>;
  readonly maxPathLength: number;
  signatureFailed: boolean;
}

/**
 * Depth-first search with backtracking from `cert` to an anchor: several candidate issuers (cross-certificates,
 * renewed CAs) may match. `seen` holds the fingerprints of the certificates below `cert` on this branch.
 */
function buildPath(
  search: PathSearch,
  cert: X509Certificate,
  seen: Set<string>,
): X509Certificate[] | undefined {
  if (search.anchorPrints.has(cert.fingerprint256)) return [cert];
  if (seen.size + 1 >= search.maxPathLength) return undefined;
  for (const candidate of search.pool) {
    if (seen.has(candidate.fingerprint256) || !cert.checkIssued(candidate)) continue;
    if (!signedBy(cert, candidate)) {
      search.signatureFailed = true;
      continue;
    }
    const rest = buildPath(search, candidate, new Set([...seen, cert.fingerprint256]));
    if (rest) return [cert, ...rest];
  }
  return undefined;
}

function checkValidity(cert: X509Certificate, at: Date): Finding[] {
  let period = validityPeriods.get(cert);
  if (!period) {
    period = { from: new Date(cert.validFrom), to: new Date(cert.validTo) };
    validityPeriods.set(cert, period);
  }
  const { from, to } = period;
  if (at < from)
    return [error('PKI_CERT_NOT_YET_VALID', `${cert.subject} is valid only from ${from.toISOString()}`)];
  if (at > to) return [error('PKI_CERT_EXPIRED', `${cert.subject} expired on ${to.toISOString()}`)];
  return [];
}

/** RFC 5280 §6.1.4 (k), (l), (n): an issuer is a CA, may sign certificates, and its path length allows `below` CAs. */
function checkIssuer(cert: X509Certificate, below: number): Finding[] {
  if (!cert.ca)
    return [error('PKI_NOT_A_CA', `${cert.subject} issued a certificate but is not a CA (basicConstraints)`)];
  const facts = certificateFacts(cert);
  const findings: Finding[] = [];
  if (facts.keyUsage !== undefined && !(facts.keyUsage & KeyUsageFlags.keyCertSign)) {
    findings.push(error('PKI_NOT_A_CA', `${cert.subject} lacks the keyCertSign key usage`));
  }
  const bc = facts.basicConstraints;
  // Intermediates between this CA and the leaf: `below` counts the leaf, so subtract it.
  if (bc?.pathLength !== undefined && below - 1 > bc.pathLength) {
    findings.push(
      error('PKI_PATH_LENGTH_EXCEEDED', `${cert.subject} allows at most ${bc.pathLength} CAs below it`),
    );
  }
  return findings;
}

/** What trust files hold: anchor certificates and CRLs (as read). */
export interface TrustMaterial {
  readonly anchors: readonly X509Certificate[];
  readonly crls: readonly Buffer[];
}

/** The files `paths` name: each file itself, a directory's `.pem/.crt/.cer/.crl` files (not recursive, sorted). */
export function trustMaterialFiles(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    try {
      if (!statSync(path).isDirectory()) return [path];
      return readdirSync(path)
        .sort()
        .filter((name) => /\.(pem|crt|cer|crl)$/i.test(name) && statSync(join(path, name)).isFile())
        .map((name) => join(path, name));
    } catch (cause) {
      throw new QerdsError('PKI_TRUST_STORE_UNREADABLE', `cannot load trust material from ${path}`, {
        cause,
      });
    }
  });
}

/**
 * One trust file: a PEM file (one or more certificates), a DER certificate (`.crt`/`.cer`), or a CRL
 * (`*.crl`, `*.crl.pem`, or any PEM holding `X509 CRL`, which may hold certificates too).
 */
export function readTrustFile(file: string): TrustMaterial {
  try {
    const data = readFileSync(file);
    const text = data.toString('latin1');
    if (/\.crl(\.pem)?$/i.test(file) || text.includes('-----BEGIN X509 CRL-----'))
      return { anchors: parsePemCertificates(text), crls: [data] };
    if (text.includes('-----BEGIN')) return { anchors: parsePemCertificates(text), crls: [] };
    return { anchors: [new X509Certificate(data)], crls: [] };
  } catch (cause) {
    throw new QerdsError('PKI_TRUST_STORE_UNREADABLE', `cannot load trust material from ${file}`, { cause });
  }
}

/** Every anchor and CRL of `paths` (files or directories, see `readTrustFile`). Throws `PKI_TRUST_STORE_UNREADABLE`, `PKI_TRUST_STORE_EMPTY`. */
export function readTrustMaterial(paths: readonly string[]): TrustMaterial {
  const read = trustMaterialFiles(paths).map(readTrustFile);
  const anchors = read.flatMap((m) => m.anchors);
  if (anchors.length === 0)
    throw new QerdsError('PKI_TRUST_STORE_EMPTY', `no certificate in ${paths.join(', ')}`);
  return { anchors, crls: read.flatMap((m) => m.crls) };
}

/**
 * A trust store from files (see `readTrustMaterial`); `options.crls` (a fixed list) come before the files' CRLs.
 * Throws `PKI_TRUST_STORE_UNREADABLE` on unreadable input and `PKI_TRUST_STORE_EMPTY` if no anchor is found.
 */
export function loadTrustStore(
  paths: readonly string[],
  options: TrustStoreOptions & { readonly crls?: readonly (Buffer | string)[] } = {},
): TrustStore {
  const material = readTrustMaterial(paths);
  return createTrustStore(material.anchors, {
    ...options,
    crls: [...(options.crls ?? []), ...material.crls],
  });
}
