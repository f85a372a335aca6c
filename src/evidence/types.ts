import type { EvidenceData } from '../core/index.js';
import type { CertificateQcReport, Finding, TrustStore } from '../pki/index.js';
import type { QualifiedStatus, TrustList } from '../trust-list/index.js';
import type { SealVerification, WrittenXml } from '../seal/index.js';
import type { IssuerBinding, IssuerPin } from './issuer-check.js';

/** Anything that seals an XML document (XAdES enveloped): see {@link xadesSealer}. */
export interface EvidenceSealer {
  /**
   * Seal `xml`. `written`, when given, is that very text as its builder wrote it with its canonical form
   * (issueEvidence passes writeEvidence's), for a sealer that seals without parsing (sealWrittenXml). A sealer that
   * parses the text may ignore it.
   */
  seal(xml: string, written?: WrittenXml): Promise<string>;
}

/** Main indications of ETSI EN 319 102-1 §5.1.3. */
export type Indication = 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE';

/**
 * Sub-indications of EN 319 102-1 that this verifier reports. TOTAL-FAILED: FORMAT_FAILURE,
 * HASH_FAILURE, SIG_CRYPTO_FAILURE, REVOKED. INDETERMINATE: the others.
 */
export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'TIMESTAMP_ORDER_FAILURE'
  | 'TRY_LATER'
  | 'SIGNED_DATA_NOT_FOUND'
  | 'NO_POE';

export interface VerifyEvidenceOptions {
  /** Trust anchors (and CRLs) for the seal's and the TSA's certificates. */
  readonly trust: TrustStore;
  /**
   * The current time of the validation (validate as if it were then): the newest timestamp must hold at
   * this time, older ones at the time of the timestamp covering them, the seal certificate at the
   * SignatureTimeStamp's time (or at this time without one). @defaultValue now
   */
  readonly at?: Date;
  /**
   * The user content the evidence is about. One Buffer must match the digest of one PartInfo; an array
   * must match the PartInfo list one by one, in order.
   */
  readonly content?: Buffer | readonly Buffer[];
  /** Fail (INDETERMINATE, NO_POE) when the seal has no valid SignatureTimeStamp. @defaultValue false */
  readonly requireTimestamp?: boolean;
  /**
   * A loaded ETSI TS 119 612 trusted list (see loadTrustList): the report then says whether the seal and the
   * TSA were qualified at the time of the SignatureTimeStamp (or the validation time without one).
   */
  readonly trustList?: TrustList;
  /**
   * Seal certificates the relying party knows by other means (its directory) to be a given issuer's: they bind a
   * seal certificate without organizationIdentifier to the issuer the evidence names (issuer-check.ts).
   * @defaultValue none
   */
  readonly issuerPins?: readonly IssuerPin[];
}

/** Whether the sealing AP and the TSA are qualified according to the trusted list given. */
export interface QualifiedReport {
  /** The time the statuses were read at. */
  readonly at: Date;
  readonly seal?: QualifiedStatus;
  readonly tsa?: QualifiedStatus;
}

export interface VerificationReport {
  readonly indication: Indication;
  readonly subIndication?: SubIndication;
  /** The evidence as read from the signed document (only when the seal covers it). */
  readonly evidence?: EvidenceData;
  /**
   * How the issuer the evidence names was bound to the seal certificate: by the certificate's organizationIdentifier,
   * or by a pin of the relying party (`issuerPins`). Absent when it was not bound.
   */
  readonly issuerBinding?: IssuerBinding;
  readonly seal?: SealVerification;
  /**
   * What the seal certificate's issuer states of it (EN 319 412-5 qcStatements: qualified or not, QcType, QSCD; EN 319
   * 411 policies). A claim of the certificate; `qualified` (the trusted list) says whether its issuer is a QTSP.
   */
  readonly sealCertificate?: CertificateQcReport;
  /** Present when a trusted list was given. */
  readonly qualified?: QualifiedReport;
  readonly findings: Finding[];
}
