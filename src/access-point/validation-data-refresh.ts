import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { HeldValidationData } from '../api/index.js';
import type { QerdsConfig } from '../config/index.js';
import type { Clock } from '../core/index.js';
import { startSweepTimer } from '../pipeline/index.js';
import { crlDistributionPointUrls, refreshCrls, type CrlSet } from '../pki/index.js';
import type { LiveTrustLists } from '../trust-list/index.js';

export interface ValidationDataRefreshOptions {
  /** The trust store's CRLs. */
  readonly crls: CrlSet;
  /** The configured trusted lists, when there are any. */
  readonly trustLists?: LiveTrustLists;
  /** `pki.trust` (or the dev PKI's CA and CRL files): their CRL files are read again. */
  readonly files: readonly string[];
  /** Certificates whose http CRL Distribution Points are fetched (with `settings.fetch`): anchors, e-seal, TSA. */
  readonly certificates: readonly X509Certificate[];
  readonly settings: QerdsConfig['pki']['crlRefresh'];
  readonly clock: Clock;
  readonly log: Logger;
  /** Told what each refresh accepted and refused (metrics). */
  readonly onRefreshed?: (
    kind: HeldValidationData['kind'],
    outcome: 'accepted' | 'refused',
    count: number,
  ) => void;
}

export interface ValidationDataRefresh {
  /** Refreshes every `settings.intervalMs` (0: never); with `settings.fetch`, once at once too. */
  start(): void;
  /** Stops the timer and waits for a refresh in progress. */
  stop(): Promise<void>;
  /** One refresh of the CRLs and trusted lists (never throws: refusals are logged and counted). */
  runOnce(): Promise<void>;
  /** The CRLs and lists held now (for metrics). */
  held(): HeldValidationData[];
  /** /readyz: throws when a held CRL or list is past its nextUpdate; answers a warning when one is due within `warnBeforeMs`. */
  readiness(): Promise<void | string>;
}

/**
 * The CRLs and trusted lists held now (metrics, /readyz). Read from the live sets themselves, so that
 * metrics can be made before the refresh that updates them.
 */
export function heldValidationData(
  crls: CrlSet,
  trustLists: LiveTrustLists | undefined,
): (HeldValidationData & { readonly staleAllowed?: boolean })[] {
  return [
    // CRLs no configured CA signed are ignored by validation: their age does not matter.
    ...crls.held
      .filter((h) => h.issuer)
      .map((h) => ({
        kind: 'crl' as const,
        name: h.crl.issuer,
        ...(h.crl.nextUpdate ? { nextUpdate: h.crl.nextUpdate } : {}),
      })),
    ...(trustLists?.lists ?? []).map((l, i) => ({
      kind: 'trust-list' as const,
      name: l.schemeOperator,
      ...(l.nextUpdate ? { nextUpdate: l.nextUpdate } : {}),
      // `allowStale` lists are configured to be used past NextUpdate: no reason to be not ready.
      staleAllowed: trustLists?.entries[i]?.allowStale ?? false,
    })),
  ];
}

/**
 * Keeps the CRLs and trusted lists of this process fresh (`pki.crlRefresh`).
 *
 * Why a timer in every process and not a cluster sweep (`Queue.registerSweep`, once per interval across the
 * cluster): each process seals evidence and validates peers with the CRLs in its own memory, API-only
 * processes included (they take no sweep jobs). A sweep would have to store the CRL somewhere and make every
 * process reload it, which is a second refresh mechanism anyway. A refresh is a read of files and idempotent
 * http GETs of signed data, so N processes doing it each (N GETs per interval at the CA) is harmless.
 */
export function createValidationDataRefresh(options: ValidationDataRefreshOptions): ValidationDataRefresh {
  const { crls, trustLists, settings, clock, log } = options;
  const urls = settings.fetch
    ? [...new Set([...options.certificates.flatMap(crlDistributionPointUrls), ...settings.urls])]
    : [];
  let timer: { stop(): Promise<void> } | undefined;
  let running: Promise<void> | undefined;

  const refresh = async () => {
    const report = await refreshCrls({
      crls,
      files: options.files,
      urls,
      timeoutMs: settings.timeoutMs,
      maxBytes: settings.maxBytes,
    });
    for (const a of report.accepted)
      log.info(
        { source: a.source, issuer: a.issuer, thisUpdate: a.thisUpdate, nextUpdate: a.nextUpdate },
        'CRL refreshed',
      );
    for (const r of report.refused)
      log.warn(
        { source: r.source, code: r.code, reason: r.reason },
        'CRL not taken; the one held stays in use',
      );
    count('crl', report);
    if (!trustLists) return;
    const lists = await trustLists.refresh(clock.now());
    for (const a of lists.accepted)
      log.info({ path: a.path, issued: a.issued, nextUpdate: a.nextUpdate }, 'trusted list refreshed');
    for (const r of lists.refused)
      log.warn(
        { path: r.path, code: r.code, reason: r.reason },
        'trusted list not taken; the one held stays in use',
      );
    count('trust-list', lists);
  };
  const count = (
    kind: HeldValidationData['kind'],
    report: { accepted: readonly unknown[]; refused: readonly unknown[] },
  ) => {
    if (report.accepted.length > 0) options.onRefreshed?.(kind, 'accepted', report.accepted.length);
    if (report.refused.length > 0) options.onRefreshed?.(kind, 'refused', report.refused.length);
  };
  const runOnce = (): Promise<void> => {
    running ??= refresh()
      .catch((error: unknown) => log.error({ err: error }, 'CRL and trusted list refresh failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const held = () => heldValidationData(crls, trustLists);

  return {
    start() {
      if (timer || settings.intervalMs === 0) return;
      // Files were read just now; a distribution point may already have a newer CRL than the file.
      if (settings.fetch) void runOnce();
      timer = startSweepTimer(settings.intervalMs, runOnce, (error) =>
        log.error({ err: error }, 'CRL and trusted list refresh failed'),
      );
    },
    async stop() {
      await timer?.stop();
      timer = undefined;
      await running;
    },
    runOnce,
    held,
    async readiness() {
      const now = clock.now().getTime();
      const describe = (h: HeldValidationData) =>
        `${h.kind === 'crl' ? 'the CRL of' : 'the trusted list of'} ${h.name.replace(/\n/g, ', ')} (nextUpdate ${h.nextUpdate!.toISOString()})`;
      const dated = held().filter((h) => h.nextUpdate && !h.staleAllowed);
      const stale = dated.filter((h) => h.nextUpdate!.getTime() < now);
      if (stale.length > 0)
        throw new Error(
          `stale: ${stale.map(describe).join('; ')}; evidence at B-LT and peer checks fail until it is renewed`,
        );
      const soon = dated.filter((h) => h.nextUpdate!.getTime() - now < settings.warnBeforeMs);
      return soon.length > 0 ? `due soon: ${soon.map(describe).join('; ')}` : undefined;
    },
  };
}
