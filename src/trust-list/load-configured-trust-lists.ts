import { readFile } from 'node:fs/promises';
import { isQerdsError, QerdsError } from '../core/errors.js';
import { loadTrustStore } from '../pki/index.js';
import { loadTrustList } from './load-trust-list.js';
import type { TrustList } from './types.js';

/** One configured trusted list: the file and who may sign it (PEM files or directories of the scheme operator's anchors). */
export interface ConfiguredTrustList {
  readonly path: string;
  readonly signerAnchors: readonly string[];
  /** Accept a list past its NextUpdate. @defaultValue false */
  readonly allowStale?: boolean;
}

/**
 * The trusted lists of the configuration, each read and its signature checked at `at`. Any failure names the
 * file and keeps the code of the cause (`TL_SIGNATURE_INVALID`, `TL_STALE`, `TL_MALFORMED`,
 * `PKI_TRUST_STORE_UNREADABLE`), so an AP refuses to start on a forged or stale list instead of running without it.
 */
export async function loadConfiguredTrustLists(
  entries: readonly ConfiguredTrustList[],
  at: Date,
): Promise<TrustList[]> {
  const lists: TrustList[] = [];
  for (const entry of entries) lists.push(await loadConfiguredTrustList(entry, at));
  return lists;
}

/** One configured trusted list, read and verified at `at`; errors as `loadConfiguredTrustLists`. */
export async function loadConfiguredTrustList(entry: ConfiguredTrustList, at: Date): Promise<TrustList> {
  try {
    const xml = await readFile(entry.path, 'utf8');
    return await loadTrustList(xml, {
      signerAnchors: loadTrustStore(entry.signerAnchors),
      at,
      allowStale: entry.allowStale ?? false,
    });
  } catch (cause) {
    const code = isQerdsError(cause) ? cause.code : 'TL_UNREADABLE';
    throw new QerdsError(code, `trusted list ${entry.path}: ${(cause as Error).message}`, { cause });
  }
}
