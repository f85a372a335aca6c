/** Configuration sections: Directory (where a participant is) (assembled in config/schema.ts). */
import { z } from 'zod';
import { httpUrl, participantId } from './fields.js';

export const participantEntry = z.strictObject({
  /** Participant id `<scheme>:<value>`, e.g. `0188:1234567890123` (Japanese corporate number). */
  id: participantId(),
  /** Legal name, carried in evidence as the eIDAS LegalName attribute. */
  name: z.string().min(1),
  /** AS4 endpoint of the participant's access point (C3), e.g. `https://ap.example/as4`. */
  endpoint: z.string().url(),
  /**
   * PEM file of that AP's AS4 signing certificate (its e-seal, unless it signs AS4 with a key of its own:
   * `as4.signingCert`): pins who may sign its AS4 messages and receipts, and, without `apSealCertificate`, its
   * evidence and REM messages. Optional.
   */
  apCertificate: z.string().optional(),
  /**
   * ERDS id of that AP (its `ap.id`, the issuer its evidence names). With `apCertificate` it binds that issuer to the
   * pinned seal: evidence returned by the AP is then accepted even when its seal certificate names no
   * organizationIdentifier, and refused when it names another issuer. Optional.
   */
  apId: z.string().min(1).optional(),
  /**
   * PEM file of that AP's e-seal certificate when it differs from `apCertificate` (the AP signs AS4 with another
   * key): pins who may seal the evidence it returns and sign its REM messages. @defaultValue `apCertificate`
   */
  apSealCertificate: z.string().optional(),
  /**
   * How that AP is reached, as SMP names transport profiles: `peppol-transport-as4-v2_0` the Peppol AS4 profile (SBD,
   * Peppol header), `bdxr-transport-ebms3-as4-v1p0` qerds-ap's ERDS service over eDelivery AS4, `etsi-rem-smtp` the
   * REM SMTP binding. Lets one AP serve Peppol and ERDS peers side by side. @defaultValue by `as4.profile` (an
   * `smtp://` endpoint: the REM SMTP binding)
   */
  transportProfile: z.string().min(1).optional(),
  /**
   * PEM file of that AP's AS4 encryption certificate (RSA for eDelivery AS4 1.15, X25519 for 2.0): AS4
   * payloads to it are encrypted for this certificate. Required when the P-Mode wants encryption.
   */
  apEncryptionCertificate: z.string().optional(),
  /**
   * PEM file of the participant's (C4's) encryption certificate (RSA, EC P-256 or X25519). When set, C2
   * encrypts submitted content for it end to end (CMS AuthEnvelopedData) before relaying. Optional.
   */
  encryptionCertificate: z.string().optional(),
  /** Registered e-mail address of the participant: RCPT TO this address names it at the SMTP intake. Optional. */
  email: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
    .optional(),
  /**
   * PEM file of that AP's TLS certificate: a pin. Sending, its HTTPS server must present exactly this
   * certificate (beside chaining to the trust anchors); receiving with mutual TLS, an AS4 message for this
   * participant's AP must come over a connection whose client certificate is this one. Optional.
   */
  apTlsCertificate: z.string().optional(),
  /**
   * SPKI pins of that AP's TLS certificate, `sha256/<base64 of SHA-256(SubjectPublicKeyInfo DER)>` (RFC 7469,
   * curl `--pinnedpubkey`): like `apTlsCertificate`, but they survive a renewal with the same key. Any one
   * matching (or `apTlsCertificate` matching) is enough. @defaultValue [] (no pin: any certificate the anchors issued)
   */
  apTlsPins: z
    .array(z.string().regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'must be sha256/<base64 of 32 bytes>'))
    .default([]),
});

export const directory = z
  .strictObject({
    /** Participants reachable through the network (static directory). */
    participants: z.array(participantEntry).default([]),
    /**
     * `static`: only `participants`. `smp`: `participants` first (local pins, peers not published), then the
     * OASIS BDXR SMP of `smp` for everyone else, its signed answers verified and cached. @defaultValue 'static'
     */
    kind: z.enum(['static', 'smp']).default('static'),
    /** The SMP (kind smp): one fixed `url`, or BDXL discovery of each participant's SMP under `bdxl.domain`. */
    smp: z
      .object({
        /** Base URL of the one SMP that serves every participant. Either this or `bdxl`. */
        url: httpUrl().optional(),
        /** BDXL / SML discovery (DNS NAPTR) of each participant's SMP. Either this or `url`. */
        bdxl: z
          .object({
            /** DNS zone of the SML/BDXL, e.g. Peppol's `participant.sml.prod.tech.peppol.org` (test: `participant.sml.test.tech.peppol.org`). */
            domain: z.string().min(1),
            /**
             * How the participant's DNS name is built and read (src/directory/bdxl-locator.ts): `peppol` (Peppol SML 2.0,
             * NAPTR), `bdxl` (OASIS BDXL, NAPTR) or `peppol-cname` (the older Peppol SML form, `B-<md5>` CNAME; the SMP is
             * then asked at http://<host>/). @defaultValue 'peppol'
             */
            mode: z.enum(['bdxl', 'peppol', 'peppol-cname']).default('peppol'),
            /** DNS servers to ask (`host` or `host:port`), e.g. those of a private or test SML zone. @defaultValue the system's */
            dnsServers: z.array(z.string().min(1)).optional(),
          })
          .strict()
          .optional(),
        /** Document type (SMP service) of the messages, `scheme::value`. @defaultValue the ERDS dispatch `qerds-docid::urn:qerds-ap:erds:dispatch` */
        documentType: z
          .string()
          .regex(/^[^:]+::.+$/, 'must be <scheme>::<value>')
          .default('qerds-docid::urn:qerds-ap:erds:dispatch'),
        /** Process identifier, `scheme::value`. @defaultValue any process */
        process: z
          .string()
          .regex(/^[^:]+::.+$/, 'must be <scheme>::<value>')
          .optional(),
        /** REST binding: `smp1` (SMP 1.0, Peppol) or `smp2` (OASIS SMP 2.0). @defaultValue 'smp1' */
        binding: z.enum(['smp1', 'smp2']).default('smp1'),
        /** Anchors (PEM files or directories) the SMP's signing certificate must chain to. @defaultValue the AP's trust store */
        trust: z.array(z.string()).optional(),
        /** Timeout of one SMP request, in ms. @defaultValue 10000 */
        timeoutMs: z.coerce.number().int().min(100).default(10_000),
        /**
         * Accept RSA-SHA1 signatures and SHA-1 digests on Peppol SMP 1.x responses, which SMPs not yet on Peppol SMP
         * 1.3.0 still send (src/peppol/smp-signature-policy.ts). Never for OASIS SMP responses, AS4 or evidence.
         * @defaultValue false
         */
        allowRsaSha1: z.boolean().default(false),
      })
      .strict()
      .refine(
        (smp) => (smp.url === undefined) !== (smp.bdxl === undefined),
        'give exactly one of url and bdxl',
      )
      .optional(),
    /**
     * How long an SMP answer is kept, in seconds, per participant and document type (never past the endpoint's
     * expiration nor its certificate's notAfter; "not registered" at most 60 s; refusals never); 0: no cache.
     * @defaultValue 3600
     */
    cacheTtlSeconds: z.coerce.number().int().min(0).default(3600),
  })
  .refine((d) => d.kind !== 'smp' || d.smp !== undefined, {
    message: 'kind smp needs directory.smp',
    path: ['smp'],
  })
  .prefault({});
