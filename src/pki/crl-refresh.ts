import { isQerdsError } from '../core/errors.js';
import { parseCrls } from './crl.js';
import { fetchCrl, type FetchCrlOptions } from './crl-fetch.js';
import type { CrlSet } from './crl-set.js';
import { readTrustFile, trustMaterialFiles } from './trust-store.js';

export interface CrlRefreshOptions extends FetchCrlOptions {
  /** The CRLs to refresh (the trust store's `CrlSet`). */
  readonly crls: CrlSet;
  /** Trust files and directories (`pki.trust`): the CRLs among them are read again. @defaultValue [] */
  readonly files?: readonly string[];
  /** http URLs of CRLs (CRL Distribution Points) fetched each time. @defaultValue [] */
  readonly urls?: readonly string[];
}

/** A CRL that replaced the one held for its issuer. */
export interface CrlRefreshAccepted {
  readonly source: string;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

/** A source that gave nothing usable: unreadable, unreachable, malformed, not signed by its CA, or older than held. */
export interface CrlRefreshRefused {
  readonly source: string;
  readonly code: string;
  readonly reason: string;
}

export interface CrlRefreshReport {
  readonly accepted: readonly CrlRefreshAccepted[];
  readonly refused: readonly CrlRefreshRefused[];
}

interface Candidate {
  readonly source: string;
  readonly der: Buffer;
  readonly issuer: string;
  readonly thisUpdate: Date;
}

/**
 * One refresh: reads the CRLs of `files` and fetches `urls`, then offers each CRL to `crls` (newest first, so
 * that of two sources for one CA the newer wins and the older is not reported as a rollback). What `crls`
 * refuses (`CrlSet.offer`: unparsable, foreign signature, older than held) leaves the held CRL in place.
 * Never throws: every failure is in the report, for the caller to log.
 */
export async function refreshCrls(options: CrlRefreshOptions): Promise<CrlRefreshReport> {
  const refused: CrlRefreshRefused[] = [];
  const candidates: Candidate[] = [];
  const add = (source: string, data: Buffer) => {
    try {
      for (const crl of parseCrls(data))
        candidates.push({ source, der: crl.der, issuer: crl.issuer, thisUpdate: crl.thisUpdate });
    } catch (error) {
      refused.push({ source, code: codeOf(error, 'PKI_CRL_MALFORMED'), reason: (error as Error).message });
    }
  };

  for (const path of options.files ?? []) {
    try {
      for (const file of trustMaterialFiles([path]))
        for (const data of readTrustFile(file).crls) add(file, data);
    } catch (error) {
      refused.push({
        source: path,
        code: codeOf(error, 'PKI_TRUST_STORE_UNREADABLE'),
        reason: (error as Error).message,
      });
    }
  }
  const fetched = await Promise.allSettled(
    (options.urls ?? []).map(async (url) => ({ url, data: await fetchCrl(url, options) })),
  );
  fetched.forEach((result, i) => {
    if (result.status === 'fulfilled') add(result.value.url, result.value.data);
    else
      refused.push({
        source: options.urls![i]!,
        code: codeOf(result.reason, 'PKI_CRL_FETCH_FAILED'),
        reason: (result.reason as Error).message,
      });
  });

  const accepted: CrlRefreshAccepted[] = [];
  // Issuer name → thisUpdate of the CRL held after this round's newer candidate: older ones are superseded, not news.
  const settled = new Map<string, Date>();
  for (const candidate of candidates.sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime())) {
    const done = settled.get(candidate.issuer);
    if (done && candidate.thisUpdate <= done) continue;
    const offer = options.crls.offer(candidate.der);
    if (offer.outcome === 'refused') {
      refused.push({ source: candidate.source, code: offer.code, reason: offer.reason });
      continue;
    }
    settled.set(candidate.issuer, offer.crl.thisUpdate);
    if (offer.outcome === 'accepted') {
      accepted.push({
        source: candidate.source,
        issuer: offer.crl.issuer,
        thisUpdate: offer.crl.thisUpdate,
        ...(offer.crl.nextUpdate ? { nextUpdate: offer.crl.nextUpdate } : {}),
      });
    }
  }
  return { accepted, refused };
}

function codeOf(error: unknown, fallback: string): string {
  return isQerdsError(error) ? error.code : fallback;
}
