import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the store module. STORE_DUPLICATE and STORE_CHAIN_MOVED are answers the pipeline acts on (a message
 * or evidence already stored; another writer extended the evidence chain first), not failures a client sees.
 */
export const storeErrors = {
  STORE_DUPLICATE: { text: 'the record is stored already', httpStatus: 409, retryable: false },
  STORE_CHAIN_MOVED: {
    text: 'the evidence chain of the message moved on meanwhile',
    httpStatus: 409,
    retryable: true,
  },
  STORE_LOCKED: {
    text: 'the SQLite store is open in another access point process',
    httpStatus: 500,
    retryable: false,
  },
  STORE_SYNC_FAILED: {
    text: 'the store could not confirm a commit on disk (the write-ahead log did not sync)',
    httpStatus: 503,
    retryable: true,
  },
  STORE_MIGRATION_FAILED: { text: 'a store migration failed', httpStatus: 500, retryable: false },
  EVIDENCE_RETENTION_ACTIVE: {
    text: 'the evidence is within its retention period and cannot be removed',
    httpStatus: 409,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type StoreErrorCode = keyof typeof storeErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly store: typeof storeErrors;
  }
}
