/** The entries of local participants' credentials and policies: `apiKeys[]`, `accounts[]` and their shared fields. */
import { z } from 'zod';
import { fingerprintEntry, httpUrl, levelEntry, participantId } from './fields.js';

/** Mail delivery of a local participant (apiKeys[] and accounts[] entries). */
export const deliveryAddressField = {
  /**
   * Registered delivery address of this local participant (C3 → C4 by mail, store-and-forward): messages for
   * it are also sent there as signed REM messages through `smtp.outbound`. Optional; API pickup stays open.
   */
  deliveryEmail: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address')
    .optional(),
};

export const deliveryEncryptionFields = {
  /**
   * PEM file of the certificate the REM mails to this participant are encrypted for (S/MIME in the
   * `deliveryEncryption` form; RSA, EC P-256 or X25519): the dispatches to its `deliveryEmail`, the notices, and
   * the receipts (evidence) to its SMTP account's address when it sends. Optional; default: the participant's
   * `directory.participants[].encryptionCertificate`, else the mail is signed only.
   */
  deliveryCertificate: z.string().optional(),
  /**
   * How the REM Dispatch mails for this participant are encrypted when a certificate is known:
   * `aes256-cbc` (EnvelopedData, AES-256-CBC, RSA PKCS#1 v1.5 key transport: what Outlook and Thunderbird
   * open) or `aes256-gcm` (AuthEnvelopedData, RSA-OAEP: RFC 8551's preference, which those clients do not
   * open yet). Why CBC is the default: src/smtp/rem-encrypt.ts. @defaultValue `aes256-cbc`
   */
  deliveryEncryption: z.enum(['aes256-gcm', 'aes256-cbc']).default('aes256-cbc'),
};

/**
 * How C3 consigns to one local recipient (EN 319 522-1 consignment modes), beside its credentials in
 * `apiKeys[]` / `accounts[]`. The defaults keep the plain store-and-forward inbox.
 */
export const consignmentPolicyFields = {
  /**
   * `required`: consignment with the recipient's acceptance. C3 keeps the content, notifies the recipient that a
   * message awaits acceptance (NotificationForAcceptance) and hands nothing over until it accepts over the API
   * (ConsignmentAcceptance); a rejection (ConsignmentRejection) or no answer within the window
   * (AcceptanceRejectionExpiry) ends the message. @defaultValue 'none'
   */
  acceptance: z.enum(['none', 'required']).default('none'),
  /**
   * `inbox`: the message is consigned to the API inbox (ContentConsignment). `notify`: store-and-notify, C3 keeps
   * the content and notifies the recipient with its pickup URL, no content (ConsignmentNotification). @defaultValue 'inbox'
   */
  consignment: z.enum(['inbox', 'notify']).default('inbox'),
  /** Webhook of the recipient: C3 POSTs its notices (JSON, no content) here. Needed by `acceptance` and `notify`. */
  notificationUrl: httpUrl().optional(),
  /** Time the recipient has to accept or reject, in seconds; default: `policy.acceptanceWindowSeconds`. */
  acceptanceWindowSeconds: z.coerce.number().int().min(1).optional(),
};

/**
 * Webhooks of a participant (the sender's ERP, the recipient's back office), beside its credentials in
 * `apiKeys[]` / `accounts[]`.
 */
/** `whsec_` and a base64 key of at least 24 bytes (Standard Webhooks asks for 24 to 64). */
export const webhookSecretPattern = /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/;

export const webhookFields = {
  /**
   * Sender side: C2 POSTs every evidence about this participant's messages here as JSON (the event, its time, the
   * evidence XML and its REST URL), through the outbox like every other job: retried with back-off, kept as a dead
   * letter when the budget is spent. Optional; REST and mail stay available.
   */
  evidenceWebhookUrl: httpUrl().optional(),
  /**
   * Key that signs every webhook POST to this participant (`evidenceWebhookUrl`, `notificationUrl`), Standard
   * Webhooks style: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`. `whsec_` and a base64
   * key of 24 bytes or more (`echo whsec_$(openssl rand -base64 32)`). A secret, like `key`: keep the config file private.
   * Optional; without it webhooks are unsigned.
   */
  webhookSecret: z
    .string()
    .regex(webhookSecretPattern, 'must be whsec_ followed by a base64 key of 24 bytes or more')
    .optional(),
};

export const apiKeyEntry = z.strictObject({
  /** The secret presented in `Authorization: Bearer <key>` or `X-API-Key`. Store a hash in production (see README). */
  key: z.string().min(16, 'API keys must be at least 16 characters'),
  /** The participant this key authenticates (sender on submit, recipient on pickup). */
  participant: participantId(),
  /** Display name of the participant. */
  name: z.string().min(1),
  ...deliveryAddressField,
  ...consignmentPolicyFields,
  ...webhookFields,
  ...deliveryEncryptionFields,
});

/** A certificate is named by its fingerprint (a pin) or by its subject DN (`C=JP, O=…, CN=…`) under a trusted CA. */
export const certificateMatch = {
  /**
   * SHA-256 fingerprint of the one certificate accepted (a pin), hex with or without colons (`openssl x509
   * -fingerprint -sha256`). When set, `subject` and `issuer` are not looked at, and a renewed certificate needs a
   * new pin. Either this or `subject`.
   */
  fingerprint256: fingerprintEntry.optional(),
  /**
   * Subject DN of the accepted certificates, `C=JP, O=…, CN=…` (RDNs in certificate order, joined by `, `):
   * any certificate with that subject (and `issuer`, when given) that passes validation (the TLS handshake
   * against `http.tls.clientCa` for `mtls`, `pki.trust` for `eseal`) matches, so a renewal needs no config change.
   * Either this or `fingerprint256`.
   */
  subject: z.string().min(1).optional(),
  /** Issuer DN the certificate must carry (with `subject`). */
  issuer: z.string().min(1).optional(),
  /** The private key is non-exportable in hardware (HSM, TPM, smart card, QSCD): AAL3 instead of AAL2. @defaultValue false */
  hardwareBound: z.boolean().default(false),
  /** IAL the certificate's issuance proves (e.g. 3 for a qualified certificate); default: the account's `ial`. */
  ial: levelEntry.optional(),
};
export const hasCertificateMatch = (c: { fingerprint256?: string; subject?: string }) =>
  c.fingerprint256 !== undefined || c.subject !== undefined;
export const credentialEntry = z.discriminatedUnion('kind', [
  /** A bearer API key: AAL1. `keySha256` is the hex SHA-256 of a random key of at least 128 bits. */
  z
    .object({
      kind: z.literal('apiKey'),
      /**
       * Lowercase hex SHA-256 of the key's UTF-8 text (`printf %s "$KEY" | sha256sum`); the key itself is not in
       * the config. Presented as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
       */
      keySha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    })
    .strict(),
  /** An OAuth2 client (client credentials grant, RFC 6749 §4.4) with a shared secret: AAL1. */
  z
    .object({
      kind: z.literal('oauth2'),
      /**
       * The OAuth2 `client_id` (printable ASCII, no spaces or `:`), unique across `accounts`: with its secret at
       * `POST /oauth/token` (HTTP Basic or form body, over TLS only) it gets a bearer access token.
       */
      clientId: z
        .string()
        .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
        .refine((v) => !v.includes(':'), 'must not contain ":"'),
      /** `scrypt$N$r$p$salt$key` of the client secret (src/smtp/password.ts `hashPassword`). */
      secretHash: z
        .string()
        .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
    })
    .strict(),
  /** A TLS client certificate (mutual TLS): AAL2, AAL3 when hardwareBound. */
  z
    .object({ kind: z.literal('mtls'), ...certificateMatch })
    .strict()
    .refine(hasCertificateMatch, 'needs fingerprint256 or subject'),
  /** The certificate of the participant's own e-seal on submitted XML (XAdES): AAL2, AAL3 when hardwareBound. */
  z
    .object({ kind: z.literal('eseal'), ...certificateMatch })
    .strict()
    .refine(hasCertificateMatch, 'needs fingerprint256 or subject'),
  /** A person's TOTP enrolment (RFC 6238, SHA-1, 30 s, 6 digits): with a pickup link, AAL2. `secretBase32` as authenticator apps show it (≥ 128 bits). */
  z
    .object({
      kind: z.literal('totp'),
      /** The shared TOTP secret in base32 (spaces and `=` padding ignored), at least 26 characters (128 bits). */
      secretBase32: z.string().regex(/^[A-Za-z2-7 ]{26,}=*$/, 'must be base32, at least 128 bits'),
    })
    .strict(),
  /** A person's password for pickup links, `scrypt$N$r$p$salt$key` (src/smtp/password.ts `hashPassword`): with a pickup link, AAL1. */
  z
    .object({
      kind: z.literal('password'),
      /** `scrypt$N$r$p$salt$key` of the person's password (src/smtp/password.ts `hashPassword`); never the password itself. */
      passwordHash: z
        .string()
        .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a scrypt$… hash'),
    })
    .strict(),
]);
/**
 * A sender's own e-seal that this AP holds for it in a PKCS#11 token (a remote e-seal, for forwarded use): content the
 * sender submits unsealed is sealed with it at C2 (XAdES for XML, CAdES for anything else) before encryption.
 */
export const remoteSealEntry = z
  .object({
    /** Where the key is: the PKCS#11 module, the token (by `tokenLabel` or `slot`), the key label and the PIN's variable. */
    pkcs11: z
      .object({
        /**
         * Path of the PKCS#11 module (a shared library), loaded as given: unlike file keys, not resolved against the
         * config file's directory. @defaultValue '/usr/lib/softhsm/libsofthsm2.so' (softhsm2, for development)
         */
        module: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
        /** The token by its label (or by `slot`). */
        tokenLabel: z.string().min(1).optional(),
        /** The token by slot id (or by `tokenLabel`). */
        slot: z.coerce.number().int().min(0).optional(),
        /** CKA_LABEL of the private key in the token. */
        keyLabel: z.string().min(1),
        /** Name of the environment variable that holds the token's user PIN (never the PIN itself in a file). */
        pinEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
      })
      .strict()
      .refine(
        (p) => (p.tokenLabel === undefined) !== (p.slot === undefined),
        'needs exactly one of tokenLabel and slot',
      ),
    /** PEM file of the sender's e-seal certificate for that key (chain certificates may follow the leaf). */
    certificate: z.string().min(1),
  })
  .strict();

export const accountEntry = z
  .object({
    /** The participant, `<scheme>:<value>` (`0188:<corporate number>`, `9930:<VAT>`, `email:<address>`). */
    participant: participantId(),
    /** Legal name, in evidence as LegalName. */
    name: z.string().min(1),
    /** Identity assurance level (IAL 1–3) at which the participant was enrolled (identity proofing). @defaultValue 1 */
    ial: levelEntry.default(1),
    /**
     * How the participant authenticates, one entry or more, each by `kind` (below): its AAL, with the `ial`, gives
     * the assurance level checked against `policy.minSubmissionAssurance` / `minHandoverAssurance`.
     */
    credentials: z.array(credentialEntry).min(1),
    ...deliveryAddressField,
    ...consignmentPolicyFields,
    ...webhookFields,
    /** The sender's remote e-seal held by this AP: unsealed submissions are sealed with it. Optional. */
    remoteSeal: remoteSealEntry.optional(),
    ...deliveryEncryptionFields,
  })
  .strict();
