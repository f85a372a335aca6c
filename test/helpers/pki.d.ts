import type { DevPkiLayout } from '../../src/pki/types.js';
/**
 * A PKI made by the openssl CLI alone (test/helpers/openssl-pki.sh): certificates our code did not
 * make, for interop tests and for "outside the trust store" cases. A fresh one per call.
 */
export declare function opensslPki(cnPrefix?: string): DevPkiLayout;
/** The PKI that global setup generated once for the whole run (shared, read-only). */
export declare function sharedTestPki(): DevPkiLayout;
