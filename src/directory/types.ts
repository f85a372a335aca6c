import type { ParticipantId } from '../core/index.js';

/** Where a participant is and how to reach it: the answer of a directory (static file, SMP, BDXL). */
export interface DirectoryEntry {
  readonly participant: ParticipantId;
  readonly name: string;
  /** AS4 endpoint of the participant's access point. */
  readonly endpoint: string;
  /**
   * PEM of that AP's AS4 signing certificate (its e-seal unless it signs AS4 with another key), when the directory
   * pins it: who may sign its AS4 messages and receipts; and, without `apSealCertificatePem`, its evidence and REM.
   */
  readonly apCertificatePem?: string;
  /**
   * The ERDS id of that AP: the issuer its evidence names (EvidenceIssuerDetails). With `apCertificatePem` it binds
   * that issuer to the pinned seal even when the seal certificate names no organizationIdentifier.
   */
  readonly apId?: string;
  /**
   * PEM of that AP's e-seal when it is not `apCertificatePem` (static directory `apSealCertificate`): who may seal
   * the evidence it returns and sign its REM messages. Read it through `sealPinOf`. SMP publishes one certificate,
   * the AS4 one, so an SMP entry has none.
   */
  readonly apSealCertificatePem?: string;
  /** PEM of that AP's AS4 encryption certificate: AS4 payloads to it are encrypted for it (eDelivery AS4). */
  readonly apEncryptionCertificatePem?: string;
  /** PEM of that AP's TLS certificate, when the directory pins it (server when sending, client with mutual TLS). */
  readonly apTlsCertificatePem?: string;
  /** SPKI pins of that AP's TLS certificate, `sha256/<base64>` (RFC 7469). */
  readonly apTlsPins?: readonly string[];
  /**
   * Transport profile of the endpoint (SMP `transportProfile` / `TransportProfileID`), e.g.
   * `bdxr-transport-ebms3-as4-v1p0` or `peppol-transport-as4-v2_0`; a static entry's `transportProfile` when set.
   */
  readonly transportProfile?: string;
  /** PEM of the recipient's (C4's) encryption certificate for end-to-end encryption, when the directory names one. */
  readonly encryptionCertificatePem?: string;
  /** When the endpoint stops being valid (SMP `ServiceExpirationDate` / `ExpirationDate`). */
  readonly expiresAt?: Date;
  /** SMP 1.0 `MinimumAuthenticationLevel`: the authentication level the receiving AP requires of the sender. */
  readonly minimumAuthenticationLevel?: string;
  /** Where the answer came from (`static`, or the SMP URL that was queried). */
  readonly source?: string;
  /**
   * The SMP signed its answer with RSA-SHA1 or a SHA-1 digest, admitted only by the Peppol SMP 1.x switch
   * (`directory.smp.allowRsaSha1`): shown by the pre-send check so the operator can ask the SMP to migrate.
   */
  readonly smpSignedWithSha1?: true;
}

export interface Directory {
  /**
   * The participant's entry, or `undefined` when the directory does not know it. Throws a QerdsError
   * (`DIRECTORY_…`) when it knows of the participant but refuses the answer: a forged or untrusted SMP
   * response, an expired endpoint, an unreachable SMP, a participant registered but not for `service`.
   * `service`: what the message is (an SMP directory asks for the participant's endpoint of that document type
   * and process instead of its configured default; a static directory ignores it).
   */
  lookup(participant: ParticipantId, service?: DirectoryService): Promise<DirectoryEntry | undefined>;
}

/**
 * The SMP service a message is sent under: its document type and process (Peppol: the document type id of the
 * UBL document and the Peppol process, e.g. `cenbii-procid-ubl::urn:peppol:bis:billing`).
 */
export interface DirectoryService {
  readonly documentType: SmpIdentifier;
  /** @defaultValue the directory's configured process, else any */
  readonly process?: SmpIdentifier;
}

/** An SMP or BDXR identifier: `scheme::value` on the wire (SMP 1.0 §3.1, SMP 2.0 §5). */
export interface SmpIdentifier {
  readonly scheme?: string;
  readonly value: string;
}

/**
 * Finds the SMP that serves a participant (BDXL / SML discovery): the SMP's base URL. `undefined` when
 * the participant is not registered (NXDOMAIN, no matching NAPTR record).
 */
export type ParticipantLocator = (participant: SmpIdentifier) => Promise<URL | undefined>;

/** The dialect of an SMP response, by its document element (see smp-metadata.ts `SMP_NS`). */
export type SmpResponseDialect = 'smp1' | 'peppol' | 'smp2';

/** XMLDSig algorithm URIs (W3C) an SMP response may be signed with. */
export interface SmpSignatureAlgorithms {
  readonly signature: readonly string[];
  readonly digest: readonly string[];
}

/**
 * What an SMP response's signature may be, by dialect: the network's policy, handed in by the composition root
 * (Peppol's is `peppolSmpSignatureRules` in peppol/smp-signature-policy.ts). The directory's own default,
 * `STRICT_SMP_SIGNATURE_RULES`, takes no SHA-1 and no TLS-only signer for any dialect.
 */
export interface SmpSignatureRules {
  /** Algorithms accepted. SHA-1 is honoured for `peppol` only; for the OASIS dialects the directory drops it whatever a policy says. */
  algorithms(dialect: SmpResponseDialect): SmpSignatureAlgorithms;
  /**
   * Whether a signer whose extended key usages are TLS ones only (clientAuth/serverAuth) may sign (see
   * pki/certificate-roles.ts `tlsEkuSigners`). Peppol SMP certificates are such certificates.
   */
  tlsEkuSigners(dialect: SmpResponseDialect): boolean;
}

/**
 * How the document type asked of the SMP is chosen when the one wanted is not asked for as is: a wildcard scheme
 * (Peppol `peppol-doctype-wildcard`) is matched against the participant's registrations, read from its service
 * group. Peppol's is `peppolDocumentTypeMatcher` (peppol/identifiers.ts).
 */
export interface DocumentTypeMatcher {
  /** Whether `wanted` is matched against the registrations rather than asked for directly. */
  appliesTo(wanted: SmpIdentifier): boolean;
  /** The registration to ask for, or `undefined` when none accepts `wanted`. */
  select(wanted: SmpIdentifier, registered: readonly SmpIdentifier[]): SmpIdentifier | undefined;
}

/** The e-seal the directory pins for an AP: `apSealCertificatePem`, else `apCertificatePem` (one key for both). */
export function sealPinOf(
  entry: Pick<DirectoryEntry, 'apCertificatePem' | 'apSealCertificatePem'> | undefined,
): string | undefined {
  return entry?.apSealCertificatePem ?? entry?.apCertificatePem;
}
