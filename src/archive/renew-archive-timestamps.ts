import type { X509Certificate } from 'node:crypto';
import type { TsaClient } from '../core/index.js';
import { archiveRenewal, augmentXmlSeal } from '../seal/index.js';
import type { Store } from '../store/index.js';

export interface RenewArchiveOptions {
  /** The TSA of the new ArchiveTimeStamps. */
  readonly tsa: TsaClient;
  /** The time the sweep runs at (injected clock). */
  readonly now: Date;
  /**
   * Renew when the newest timestamp's TSA certificate expires within this many ms of `now`: enough for the
   * sweep to run again (and an operator to react) before it does. @defaultValue 90 days
   */
  readonly renewBeforeMs?: number;
  /** Validation data to embed with the new archive timestamp (CRLs, CA certificates of the paths). */
  readonly crls?: readonly (Buffer | string)[];
  readonly certificates?: readonly X509Certificate[];
  /** Page size of the scan. @defaultValue 100 */
  readonly pageSize?: number;
}

export interface RenewArchiveResult {
  readonly scanned: number;
  readonly renewed: readonly { readonly id: string; readonly reason: string }[];
  /** Evidence that was due but could not be renewed (no SignatureTimeStamp, broken seal, TSA down): for an operator. */
  readonly failed: readonly { readonly id: string; readonly reason: string; readonly error: string }[];
}

/**
 * The re-timestamping job of the archive: every stored evidence whose newest timestamp's TSA certificate
 * expires within `renewBeforeMs` is raised to XAdES B-LTA (validation data + a new ArchiveTimeStamp over
 * the seal and all earlier timestamps, EN 319 132-1 §5.5), so that it stays verifiable for its whole
 * retention period. The augmented XML only adds unsigned properties (the signed bytes and SignatureValue
 * are untouched); the store keeps the replaced XML as a version (Store.replaceEvidenceXml), so a copy
 * handed out earlier stays reproducible. One evidence failing does not stop the sweep: it is reported.
 * Cost: every evidence's XML is parsed on every run (O(all evidence)); run it daily or weekly.
 */
export async function renewArchiveTimestamps(
  store: Store,
  options: RenewArchiveOptions,
): Promise<RenewArchiveResult> {
  const renewBeforeMs = options.renewBeforeMs ?? 90 * 86_400_000;
  const renewed: { id: string; reason: string }[] = [];
  const failed: { id: string; reason: string; error: string }[] = [];
  let scanned = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.scanEvidence({
      ...(afterId === undefined ? {} : { afterId }),
      limit: options.pageSize ?? 100,
    });
    if (page.length === 0) break;
    afterId = page.at(-1)!.id;
    for (const evidence of page) {
      scanned++;
      let reason = 'renewal check failed';
      try {
        const due = await archiveRenewal(evidence.xml, { now: options.now, renewBeforeMs });
        reason = due.reason;
        if (!due.due) continue;
        const xml = await augmentXmlSeal(evidence.xml, {
          level: 'B-LTA',
          tsa: options.tsa,
          ...(options.crls ? { crls: options.crls } : {}),
          ...(options.certificates ? { certificates: options.certificates } : {}),
        });
        await store.replaceEvidenceXml(evidence.id, xml, options.now);
        renewed.push({ id: evidence.id, reason });
      } catch (error) {
        failed.push({ id: evidence.id, reason, error: (error as Error).message });
      }
    }
  }
  return { scanned, renewed, failed };
}
