import { isQerdsError } from '../core/errors.js';
import { combineTrustLists } from './combine-trust-lists.js';
import { loadConfiguredTrustList, type ConfiguredTrustList } from './load-configured-trust-lists.js';
import type { TrustList } from './types.js';

/** A trusted list a refresh took (newer than the one held), or a file it did not (kept the old one). */
export interface TrustListRefreshReport {
  readonly accepted: readonly { readonly path: string; readonly issued: Date; readonly nextUpdate?: Date }[];
  readonly refused: readonly { readonly path: string; readonly code: string; readonly reason: string }[];
}

/** The configured trusted lists, replaceable while the AP runs. */
export interface LiveTrustLists {
  /** The lists combined, read through at each use: hand this to validators, never a copy. */
  readonly view: TrustList;
  /** The lists held now, in configuration order, each with its configuration entry. */
  readonly lists: readonly TrustList[];
  readonly entries: readonly ConfiguredTrustList[];
  /**
   * Reads and verifies each configured list again at `at`; one that verifies and was issued no earlier than the
   * held one replaces it. A list that fails (unreadable, bad signature, stale, older) keeps the held one. Never throws.
   */
  refresh(at: Date): Promise<TrustListRefreshReport>;
}

/** Live lists over `entries`, starting with `initial` (one per entry, as `loadConfiguredTrustLists` made them). */
export function createLiveTrustLists(
  entries: readonly ConfiguredTrustList[],
  initial: readonly TrustList[],
): LiveTrustLists {
  let lists = [...initial];
  let combined = combineTrustLists(lists);
  const view: TrustList = {
    get schemeOperator() {
      return combined.schemeOperator;
    },
    get issued() {
      return combined.issued;
    },
    get nextUpdate() {
      return combined.nextUpdate;
    },
    get signer() {
      return combined.signer;
    },
    get services() {
      return combined.services;
    },
    trustStore: (at, options) => combined.trustStore(at, options),
    statusOf: (cert, at) => combined.statusOf(cert, at),
  };
  return {
    view: Object.freeze(view),
    entries,
    get lists() {
      return lists;
    },
    async refresh(at) {
      const accepted: TrustListRefreshReport['accepted'][number][] = [];
      const refused: TrustListRefreshReport['refused'][number][] = [];
      const next = [...lists];
      for (const [i, entry] of entries.entries()) {
        const held = lists[i]!;
        try {
          const list = await loadConfiguredTrustList(entry, at);
          if (list.issued < held.issued) {
            // Threat: an older list, still validly signed, would bring back services withdrawn since (rollback).
            refused.push({
              path: entry.path,
              code: 'TL_ROLLBACK',
              reason: `issued ${list.issued.toISOString()}, before the list held (${held.issued.toISOString()})`,
            });
          } else if (list.issued > held.issued) {
            next[i] = list;
            accepted.push({
              path: entry.path,
              issued: list.issued,
              ...(list.nextUpdate ? { nextUpdate: list.nextUpdate } : {}),
            });
          }
        } catch (error) {
          refused.push({
            path: entry.path,
            code: isQerdsError(error) ? error.code : 'TL_UNREADABLE',
            reason: (error as Error).message,
          });
        }
      }
      if (accepted.length > 0) {
        lists = next;
        combined = combineTrustLists(lists);
      }
      return { accepted, refused };
    },
  };
}
