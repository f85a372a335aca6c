/** Configuration sections: AS4 (assembled in config/schema.ts). */
import { z } from 'zod';
import { pmodeSchema } from '../../as4/index.js';

export const as4 = z
  .strictObject({
    /**
     * The AS4 profile plug-in (src/profiles) of this AP's default P-Modes: `edelivery-1.15` or `edelivery-2.0`, the
     * ERDS service (Dispatch, Evidence) between qerds-ap instances on those algorithms; `peppol`, the Peppol AS4
     * profile for JP PINT invoices and credit notes (and the ERDS Evidence P-Mode for a qerds-ap peer's returned
     * evidence). Checked at start. @defaultValue 'edelivery-1.15'
     */
    profile: z.string().min(1).default('edelivery-1.15'),
    /**
     * The P-Modes of this AP's AS4 exchanges, sending and receiving (src/as4/model/pmode.ts `pmodeSchema`), each over the
     * defaults of its `profile` and checked by it at start. An incoming UserMessage that matches none is refused
     * with EBMS:0010; one that falls short of its P-Mode's security (signature algorithm, encryption) with
     * EBMS:0103. @defaultValue the default P-Modes of `as4.profile` (src/profiles `defaultPModes`): for eDelivery,
     * one push P-Mode per ERDS action, encryption required, GZIP compression, NRR receipts
     */
    pmodes: z
      .array(pmodeSchema)
      .min(1)
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'P-Mode ids must be unique')
      .optional(),
    /**
     * This AP's AS4 encryption certificate (PEM), which peers encrypt for; default: the dev PKI's `<apName>/enc.crt.pem`
     * (RSA), on `profile: edelivery-2.0` its `<apName>/enc-x25519.crt.pem`.
     */
    encryptionCert: z.string().optional(),
    /** Its private key (PEM), which decrypts incoming payloads; default: the dev PKI's `<apName>/enc.key.pem` (`enc-x25519.key.pem` on 2.0). */
    encryptionKey: z.string().optional(),
    /**
     * This AP's AS4 signing certificate (PEM, chain after the leaf): it signs the AS4 messages and receipts this AP
     * sends, and is what peers pin for it as `apCertificate`. Set with `signingKey`, both or neither. Apart from
     * the e-seal when the e-seal's key cannot sign the P-Modes' algorithm (an ECDSA P-256 e-seal: AS4 signs with
     * RSA or Ed25519). @defaultValue the dev PKI's `<apName>/as4-sign.crt.pem` when it exists (`qerds pki init
     * --key ec`), on `profile: edelivery-2.0` its `<apName>/as4-ed25519.crt.pem` (Ed25519) when it exists; else the
     * e-seal (`pki.sealCert`)
     */
    signingCert: z.string().optional(),
    /** Its private key (PEM). @defaultValue as `signingCert`: the dev PKI's `<apName>/as4-sign.key.pem` (`as4-ed25519.key.pem` on 2.0), else `pki.sealKey` */
    signingKey: z.string().optional(),
    /**
     * An AP on Peppol (`profile: peppol`) that also relays to qerds-ap peers over the ERDS service: the AS4 identity
     * it uses with those peers (directory entries that do not name the Peppol transport profile). Its Peppol AP
     * certificate (`signingCert`, clientAuth only) stays its identity towards Peppol peers, which a qerds-ap not on
     * Peppol refuses as a TLS-only signer. Messages and returned evidence to an ERDS peer are signed with
     * `signingCert` here, and so is the receipt of an ERDS message whose signer is no Peppol AP certificate;
     * incoming ERDS messages may be encrypted for `encryptionCert` here (and still for `as4.encryptionCert`). ERDS
     * peers pin this `signingCert` as `apCertificate` and encrypt for this `encryptionCert`. Only with `profile:
     * peppol`.
     */
    erds: z
      .strictObject({
        /** Certificate (PEM) this AP signs ERDS AS4 messages and receipts with; set with `signingKey`, both or neither. @defaultValue the e-seal (`pki.sealCert`), as an AP not on Peppol signs */
        signingCert: z.string().optional(),
        /** Its private key (PEM). @defaultValue `pki.sealKey` */
        signingKey: z.string().optional(),
        /** Certificate (PEM) ERDS peers encrypt AS4 payloads for; set with `encryptionKey`, both or neither. @defaultValue `as4.encryptionCert` */
        encryptionCert: z.string().optional(),
        /** Its private key (PEM). @defaultValue `as4.encryptionKey` */
        encryptionKey: z.string().optional(),
      })
      .optional(),
    /** GZIP payloads before sending (AS4 §3.1); false turns it off for every P-Mode, true leaves it to each P-Mode's `compress`. @defaultValue true */
    compress: z.boolean().default(true),
    /** Largest size of one incoming payload after GZIP inflation, in bytes (decompression bombs). @defaultValue 104857600 (100 MiB) */
    maxDecompressedBytes: z.coerce
      .number()
      .int()
      .min(1)
      .default(100 * 1024 * 1024),
    /**
     * TLS of the AS4 client (https endpoints of peer APs). The server certificate must chain to `ca` and
     * name the host, and match the peer's `apTlsCertificate` / `apTlsPins` when the directory gives them.
     */
    tls: z
      .object({
        /** Client certificate presented to peers asking for one (mutual TLS). @defaultValue `http.tls.cert`, else the dev PKI's `<apName>/tls.crt.pem` when it exists */
        clientCert: z.string().optional(),
        /** Its private key. @defaultValue `http.tls.key`, else the dev PKI's `<apName>/tls.key.pem` */
        clientKey: z.string().optional(),
        /**
         * PEM files of the anchors a peer's server certificate must chain to. @defaultValue the anchors of `pki.trust`
         * (the dev CA) together with its CRLs: then a revoked server certificate fails the handshake, and every peer
         * TLS certificate's issuer needs a current CRL in `pki.trust` (OpenSSL's CRL check of the leaf)
         */
        ca: z.array(z.string()).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Limits of an incoming SOAP envelope at /as4, checked before it is parsed (unauthenticated peers: the XML
     * parse blocks the event loop). Payloads travel as MIME attachments, streamed to files under
     * `limits.maxPayloadBytes`; only the envelope is held in memory. Over `maxBytes`: HTTP 413 with EBMS:0004;
     * over a structural limit: EBMS:0009 InvalidHeader.
     */
    envelope: z
      .object({
        /** Largest envelope (plain SOAP body, or the root MIME part), in bytes. @defaultValue 1048576 (1 MiB) */
        maxBytes: z.coerce.number().int().min(16_384).default(1_048_576),
        /** Deepest element nesting. @defaultValue 64 */
        maxDepth: z.coerce.number().int().min(16).max(4096).default(64),
        /** Most elements. @defaultValue 10000 */
        maxElements: z.coerce.number().int().min(100).default(10_000),
        /** Most attributes, namespace declarations included (at most 64 on one element). @defaultValue 50000 */
        maxAttributes: z.coerce.number().int().min(100).default(50_000),
      })
      .strict()
      .prefault({}),
  })
  .prefault({});
