import { QerdsError } from '../core/errors.js';
import { createTrustStore } from '../pki/index.js';
import type { QualifiedStatus, TrustList } from './types.js';

/**
 * Several verified trusted lists seen as one (an AP may follow its own scheme's list and a partner
 * scheme's): the services of all of them; a certificate is qualified when any list says so, else the first
 * list that names it decides. The scheme fields are the first list's (for display only).
 */
export function combineTrustLists(lists: readonly TrustList[]): TrustList {
  const [first] = lists;
  if (!first) throw new QerdsError('TL_NONE', 'no trusted list to combine');
  if (lists.length === 1) return first;
  const combined: TrustList = {
    schemeOperator: lists.map((l) => l.schemeOperator).join(' + '),
    issued: first.issued,
    ...(first.nextUpdate ? { nextUpdate: first.nextUpdate } : {}),
    signer: first.signer,
    services: Object.freeze(lists.flatMap((l) => l.services)),
    trustStore(at, options) {
      return createTrustStore(
        lists.flatMap((l) => l.trustStore(at).anchors),
        options?.crls ? { crls: options.crls } : {},
      );
    },
    statusOf(cert, at) {
      const statuses: QualifiedStatus[] = lists.map((l) => l.statusOf(cert, at));
      return (
        statuses.find((s) => s.qualified) ??
        statuses.find((s) => s.serviceType !== undefined) ?? { qualified: false }
      );
    },
  };
  return Object.freeze(combined);
}
