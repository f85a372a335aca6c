import { join } from 'node:path';
import type { QerdsConfigInput } from '../../src/config/index.js';
import { startTwoAccessPoints, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { createDevPeppolPki, type DevPkiLayout } from '../../src/pki/index.js';
import { sharedTestPki } from './pki.js';

/** A Peppol end user with an API key at the AP that serves it. */
export interface PeppolEndUser {
  readonly id: string;
  readonly name: string;
  readonly key: string;
}

type StartOptions = Parameters<typeof startTwoAccessPoints>[0];

/**
 * The Peppol dev PKI of a two-AP test: the shared test PKI's CA with Peppol AP certificates for C2 and C3
 * (seat ids `seats`, more seats for other APs the test plays), in `<work>/pki`.
 */
export function peppolTestPki(work: string, seats: Readonly<Record<string, string>>): Promise<DevPkiLayout> {
  return createDevPeppolPki({ from: sharedTestPki(), dir: join(work, 'pki'), seats });
}

/**
 * C2 and C3 as Peppol APs (AS4 profile `peppol`) in `<work>/aps`: the seller an end user of C2, the buyer of
 * C3, each with its API key. `overrides` (per AP) go over the Peppol profile; `extraParticipants` come after
 * the seller and the buyer; every other option is startTwoAccessPoints'.
 */
export function startPeppolAccessPoints(
  work: string,
  pki: DevPkiLayout,
  options: Omit<StartOptions, 'outDir' | 'pkiDir' | 'overrides' | 'extraParticipants'> & {
    readonly seller: PeppolEndUser;
    readonly buyer: PeppolEndUser & { readonly unlistedAt?: readonly ('c2' | 'c3')[] };
    readonly overrides?: (name: 'c2' | 'c3') => QerdsConfigInput;
    readonly extraParticipants?: StartOptions['extraParticipants'];
  },
): Promise<TwoAccessPoints> {
  const { seller, buyer, overrides, extraParticipants = [], ...rest } = options;
  const { unlistedAt, ...buyerParty } = buyer;
  return startTwoAccessPoints({
    ...rest,
    outDir: join(work, 'aps'),
    pkiDir: pki.dir,
    overrides: (name) => {
      const own = overrides?.(name) ?? {};
      return { ...own, as4: { ...own.as4, profile: 'peppol' } };
    },
    extraParticipants: [
      { id: seller.id, name: seller.name, servedBy: 'c2', account: { key: seller.key } },
      {
        id: buyerParty.id,
        name: buyerParty.name,
        servedBy: 'c3',
        account: { key: buyerParty.key },
        ...(unlistedAt ? { unlistedAt } : {}),
      },
      ...extraParticipants,
    ],
  });
}
