import type { X509Certificate } from 'node:crypto';
import { isQerdsError } from '../core/errors.js';
import { parseCrls, type ParsedCrl } from './crl.js';

/**
 * CRLs as a trust store reads them: either a fixed list, or a `CrlSet` whose content a refresh replaces
 * while the AP runs. Readers ask at each use (`current`, `parsed`) instead of keeping the array they got
 * once: a captured array goes stale at the CRL's nextUpdate (PKI_REVOCATION_STALE, no more B-LT evidence).
 */
export interface CrlSource {
  /** The CRLs (DER, or PEM as given): what B-LT seals embed. The same array until the content changes. */
  readonly current: readonly (Buffer | string)[];
  /** The same CRLs, parsed once. */
  readonly parsed: readonly ParsedCrl[];
}

/** One CRL a `CrlSet` holds, with the configured certificate that signed it (undefined: none verifies it). */
export interface HeldCrl {
  readonly crl: ParsedCrl;
  readonly issuer?: X509Certificate;
}

/** What became of a CRL offered to a `CrlSet`. */
export type CrlOffer =
  | { readonly outcome: 'accepted' | 'unchanged'; readonly crl: ParsedCrl; readonly replaced?: ParsedCrl }
  | { readonly outcome: 'refused'; readonly code: CrlRefusalCode; readonly reason: string };

export type CrlRefusalCode =
  'PKI_CRL_MALFORMED' | 'PKI_CRL_ISSUER_UNKNOWN' | 'PKI_CRL_SIGNATURE_INVALID' | 'PKI_CRL_ROLLBACK';

/** CRLs that can be replaced at run time, one current CRL per issuing CA. */
export interface CrlSet extends CrlSource {
  readonly held: readonly HeldCrl[];
  /**
   * Offer a CRL (DER or PEM, exactly one): it replaces the one held for its issuer only when it parses,
   * verifies under one of the set's issuers, and its thisUpdate is not older than the held one's.
   */
  offer(data: Buffer | string): CrlOffer;
}

/**
 * A `CrlSet` starting with `initial` (as loaded from `pki.trust`); `issuers` are the certificates a CRL may be
 * signed by (the trust store's anchors and CA certificates). Initial CRLs that no issuer verifies are kept as
 * loaded (validation ignores them, with a finding) but never replaced.
 */
export function createCrlSet(
  initial: readonly (Buffer | string)[],
  issuers: readonly X509Certificate[],
): CrlSet {
  let held: HeldCrl[] = initial
    .flatMap((data) => parseCrls(data))
    .map((crl) => ({ crl, ...verifiedIssuer(crl, issuers) }));
  let current: readonly Buffer[] = Object.freeze(held.map((h) => h.crl.der));
  let parsed: readonly ParsedCrl[] = Object.freeze(held.map((h) => h.crl));

  return {
    get current() {
      return current;
    },
    get parsed() {
      return parsed;
    },
    get held() {
      return held;
    },
    offer(data) {
      let crls: ParsedCrl[];
      try {
        crls = parseCrls(data);
      } catch (error) {
        return refused('PKI_CRL_MALFORMED', isQerdsError(error) ? error.message : String(error));
      }
      const [crl] = crls;
      if (!crl || crls.length > 1)
        return refused('PKI_CRL_MALFORMED', `expected one CRL, found ${crls.length}`);
      const found = verifiedIssuer(crl, issuers);
      if (!found.issuer) {
        // Threat: a CRL nobody we trust signed could hide a revocation (or fake one); only the CA's own counts.
        return found.named
          ? refused('PKI_CRL_SIGNATURE_INVALID', `the CRL of ${crl.issuer} is not signed by that CA's key`)
          : refused(
              'PKI_CRL_ISSUER_UNKNOWN',
              `no configured CA certificate is the issuer of the CRL of ${crl.issuer}`,
            );
      }
      const issuer = found.issuer;
      const ofIssuer = held.filter((h) => h.issuer?.fingerprint256 === issuer.fingerprint256);
      const newest = ofIssuer.reduce<ParsedCrl | undefined>(
        (a, h) => (!a || h.crl.thisUpdate > a.thisUpdate ? h.crl : a),
        undefined,
      );
      if (newest && crl.thisUpdate < newest.thisUpdate) {
        // Threat: replaying an older, still signed CRL would hide the revocations published since (rollback).
        return refused(
          'PKI_CRL_ROLLBACK',
          `the CRL of ${crl.issuer} was issued ${crl.thisUpdate.toISOString()}, before the one held (${newest.thisUpdate.toISOString()})`,
        );
      }
      if (newest && crl.thisUpdate.getTime() === newest.thisUpdate.getTime())
        return { outcome: 'unchanged', crl: newest };
      held = [...held.filter((h) => !ofIssuer.includes(h)), { crl, issuer }];
      current = Object.freeze(held.map((h) => h.crl.der));
      parsed = Object.freeze(held.map((h) => h.crl));
      return { outcome: 'accepted', crl, ...(newest ? { replaced: newest } : {}) };
    },
  };
}

/** A fixed list as a `CrlSource` (parsed once). */
export function fixedCrlSource(crls: readonly (Buffer | string)[]): CrlSource {
  const current = Object.freeze([...crls]);
  const parsed = Object.freeze(crls.flatMap((c) => parseCrls(c)));
  return { current, parsed };
}

export function isCrlSource(value: unknown): value is CrlSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'parsed' in value &&
    'current' in value
  );
}

function verifiedIssuer(
  crl: ParsedCrl,
  issuers: readonly X509Certificate[],
): { issuer?: X509Certificate; named: boolean } {
  const named = issuers.filter((cert) => crl.isNamedBy(cert));
  const issuer = named.find((cert) => crl.isSignedBy(cert) === true);
  return { ...(issuer ? { issuer } : {}), named: named.length > 0 };
}

function refused(code: CrlRefusalCode, reason: string): CrlOffer {
  return { outcome: 'refused', code, reason };
}
