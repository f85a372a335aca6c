/** Configuration sections: PKI and TSA (assembled in config/schema.ts). */
import { z } from 'zod';
import { httpUrl } from './fields.js';

export const pki = z
  .strictObject({
    /** Dev PKI directory (`qerds pki init`). @defaultValue 'certs/dev' */
    dir: z.string().default('certs/dev'),
    /** Name of this AP inside the dev PKI (`c2`, `c3`): selects seal and TLS material. @defaultValue 'c2' */
    apName: z.string().default('c2'),
    /** E-seal certificate (PEM, chain after the leaf); default: the dev PKI's `<apName>/seal.crt.pem`. */
    sealCert: z.string().optional(),
    /** E-seal private key (PEM); default: the dev PKI's `<apName>/seal.key.pem`. */
    sealKey: z.string().optional(),
    /** Trust anchors and CRLs (PEM files or directories); default: the dev PKI's CA and CRL. */
    trust: z.array(z.string()).optional(),
    /**
     * The Peppol PKI: adds the OpenPeppol Access Point CA certificates of `network` (`test` or `production`), of
     * the `generations` given, to the anchors of `trust` (src/peppol/pki-anchors.ts; the files and their
     * fingerprints in certs/peppol/README.md). The AP CAs, not the Peppol roots, so that an SMP certificate
     * never passes for an AP. `dir`: a directory laid out like certs/peppol (a stand-in PKI for tests).
     * With `as4.profile: peppol` they are enforced on AS4 traffic: the signer of every received message and of
     * every receipt must be a Peppol AP certificate (seat id CN…) chaining to these AP CAs alone (not to the
     * other anchors of `trust`), not revoked, its status known by OCSP or a current CRL; otherwise EBMS:0101,
     * nothing recorded, and a receipt refused so ends the relay (RelayFailure).
     * @defaultValue absent (no Peppol anchors); generations ['G2', 'G3']; dir the certs/peppol shipped
     */
    peppolAnchors: z
      .strictObject({
        /** Which OpenPeppol network's AP CAs: `test` (the Peppol test infrastructure) or `production`. */
        network: z.enum(['test', 'production']),
        /**
         * The Peppol PKI generations whose AP CA is added: G2 (2018–2028), G3 (2025–2035); both while G2
         * certificates are still in use.
         */
        generations: z
          .array(z.enum(['G2', 'G3']))
          .min(1)
          .default(['G2', 'G3']),
        /**
         * Directory laid out like certs/peppol (`ap-test/peppol-ap-test-ca-g2.pem`, `ap-production/peppol-ap-ca-g3.pem`):
         * a stand-in PKI for tests, or an operator's own copy. @defaultValue the certs/peppol shipped with qerds-ap
         */
        dir: z.string().min(1).optional(),
      })
      .optional(),
    /**
     * ETSI TS 119 612 trusted lists read at start: `path` of the list XML, `signerAnchors` (PEM files or
     * directories) the list signer must chain to, `allowStale` to accept a list past its NextUpdate. Each
     * list's signature is checked; the AP refuses to start when one fails. The lists give the qualified
     * status of seals and TSAs in verification reports (POST /api/v1/verify). @defaultValue []
     */
    trustLists: z
      .array(
        z.strictObject({
          /** The trusted list's XML file (read at start and again by `pki.crlRefresh`). */
          path: z.string().min(1),
          /**
           * PEM files or directories of the certificates the list's signer must chain to (the scheme operator's
           * anchors, e.g. from the LOTL); the signer must also carry the tslSigning extended key usage.
           */
          signerAnchors: z.array(z.string().min(1)).min(1),
          /**
           * Accept the list past its NextUpdate (and keep /readyz ready then). Off: a stale list stops the start
           * (TL_STALE), since a withdrawal published since would be missed.
           */
          allowStale: z.boolean().default(false),
        }),
      )
      .default([]),
    /**
     * AS4 peers (the signers of incoming messages and of receipts) must be QERDS services in force on one
     * of `trustLists` at the time, on top of chaining to `trust`; others get EBMS:0101. Needs `trustLists`.
     * @defaultValue false
     */
    listedPeersOnly: z.boolean().default(false),
    /**
     * Accept peer APs the directory pins no AP certificate (`apCertificate`) for: an incoming Dispatch whose
     * sender's entry pins none, evidence returned about a message whose recipient's entry pins none. Their
     * signer must then still have the role of an AP's signing certificate and e-seal (src/pki/certificate-roles.ts:
     * digitalSignature/nonRepudiation, no TSA, TLS-only, trusted list or OCSP EKU) and must not be this AP's own
     * seal. Off: such messages are refused (EBMS:0101, evidence PIPELINE_EVIDENCE_SEAL_NOT_PINNED), the safe choice,
     * since without a pin any certificate under `trust` could speak for any AP. @defaultValue false
     */
    unpinnedPeers: z.boolean().default(false),
    /**
     * Keeping revocation data fresh while the AP runs: every `intervalMs` each process re-reads the CRL files
     * of `trust` and the `trustLists` files, and (with `fetch`) GETs the http CRL Distribution Points of the
     * trust anchors, the e-seal and the TSA certificate, plus `urls`. A CRL replaces the held one of its CA only
     * when it parses, is signed by that CA, and is not older (thisUpdate) than the held one; a trusted list
     * only when it verifies and is not older (ListIssueDateTime). Anything else keeps the old data and logs a
     * warning. /readyz fails once a held CRL is past its nextUpdate and warns `warnBeforeMs` before.
     */
    crlRefresh: z
      .object({
        /** Time between refreshes in ms; 0 turns the refresh off (data loaded at start only). @defaultValue 3600000 (1 h) */
        intervalMs: z.coerce.number().int().min(0).default(3_600_000),
        /** Fetch CRLs over http from CRL Distribution Points (RFC 5280 §4.2.1.13) and `urls`. @defaultValue false */
        fetch: z.boolean().default(false),
        /** More http URLs of CRLs to fetch (for CAs whose certificates name no distribution point). @defaultValue [] */
        urls: z.array(z.string().regex(/^http:\/\//i, 'CRLs are fetched over http only')).default([]),
        /** Timeout of one CRL fetch, in ms; a fetch past it fails and the held CRL stays. @defaultValue 10000 */
        timeoutMs: z.coerce.number().int().min(1).default(10_000),
        /** Largest CRL fetched, in bytes. @defaultValue 20971520 (20 MiB) */
        maxBytes: z.coerce
          .number()
          .int()
          .min(1)
          .default(20 * 1024 * 1024),
        /** /readyz warns when a held CRL's nextUpdate is this close, in ms. @defaultValue 86400000 (24 h) */
        warnBeforeMs: z.coerce.number().int().min(0).default(86_400_000),
      })
      .strict()
      .prefault({}),
  })
  .prefault({});

export const tsa = z
  .strictObject({
    /** `embedded`: this AP runs its own TSA (dev and tests); `remote`: an RFC 3161 TSA over HTTP. @defaultValue 'embedded' */
    mode: z.enum(['embedded', 'remote']).default('embedded'),
    /** URL of the remote TSA (mode remote). */
    url: httpUrl().optional(),
    /**
     * Several remote TSAs (mode remote), asked in this order with fail-over: one that failed is asked
     * last for `cooldownMs`. Used instead of `url` when given.
     */
    urls: z.array(httpUrl()).min(1).optional(),
    /** How long a failed TSA is asked only after the others, in ms. @defaultValue 30000 */
    cooldownMs: z.coerce.number().int().min(0).default(30_000),
    /** Serve the embedded TSA at /tsa for others. @defaultValue true */
    serve: z.boolean().default(true),
    /** TSA policy OID of the embedded TSA. @defaultValue '1.3.6.1.4.1.32473.1.1' (documentation arc, dev only) */
    policyOid: z.string().default('1.3.6.1.4.1.32473.1.1'),
    /** Certificate (PEM) of the embedded TSA, e.g. after its renewal; default: the dev PKI's `tsa.crt.pem`. */
    cert: z.string().optional(),
    /** Private key (PEM) of the embedded TSA; default: the dev PKI's `tsa.key.pem`. */
    key: z.string().optional(),
    /** Timeout of a remote TSA request, in ms. @defaultValue 10000 */
    timeoutMs: z.coerce.number().int().min(100).default(10_000),
  })
  .prefault({});
