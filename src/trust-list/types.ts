import type { X509Certificate } from 'node:crypto';
import type { SigningIdentity, TrustStore } from '../pki/index.js';
import type { ServiceStatus, TrustServiceType } from './names.js';

/** One (status, since) of a service; the newest entry whose start is at or before a time is the status then. */
export interface ServiceStatusPeriod {
  /** `other`: a URI that is not one of the eIDAS statuses (e.g. a status of Directive 1999/93 lists); never in force. */
  readonly status: ServiceStatus | 'other';
  /** The ServiceStatus URI as written. */
  readonly statusUri?: string;
  readonly statusStartingTime: Date;
}

export interface TrustListServiceInput {
  readonly type: TrustServiceType;
  readonly name: string;
  readonly certificate: X509Certificate;
  readonly status: 'granted' | 'withdrawn';
  readonly statusStartingTime: Date;
  /** Earlier statuses (ServiceHistory), any order. */
  readonly history?: readonly {
    readonly status: 'granted' | 'withdrawn';
    readonly statusStartingTime: Date;
  }[];
}

export interface BuildTrustListOptions {
  /** Name of the scheme operator (and of the one TSP the list names). */
  readonly schemeOperator: string;
  /** Name of the trust service provider. @defaultValue schemeOperator */
  readonly tspName?: string;
  /** SchemeTerritory (ISO 3166 alpha-2, or EU). @defaultValue 'JP' */
  readonly territory?: string;
  readonly services: readonly TrustListServiceInput[];
  /** The list signer (TS 119 612 §5.7: its certificate should carry the tslSigning EKU). */
  readonly signer: SigningIdentity;
  readonly issued: Date;
  readonly nextUpdate: Date;
  /** TSLSequenceNumber. @defaultValue 1 */
  readonly sequenceNumber?: number;
}

/** One listed service as read from a verified list. */
export interface TrustListService {
  readonly type: TrustServiceType | 'other';
  /** The ServiceTypeIdentifier as written. */
  readonly typeUri: string;
  readonly name: string;
  /** The X509Certificate(s) of ServiceDigitalIdentity. */
  readonly certificates: readonly X509Certificate[];
  /** Current status first, then the history, newest first. */
  readonly statuses: readonly ServiceStatusPeriod[];
  /** The status at `at` (undefined before the first status began). */
  statusAt(at: Date): ServiceStatus | 'other' | undefined;
}

export interface QualifiedStatus {
  /** True when a qualified service listing the certificate (or its issuer, for CA/QC) was in force at the time. */
  readonly qualified: boolean;
  readonly serviceType?: TrustServiceType | 'other';
  readonly serviceName?: string;
  readonly status?: ServiceStatus | 'other';
  /** `service`: the certificate is the service's own; `issuer`: a listed CA/QC issued it. */
  readonly via?: 'service' | 'issuer';
}

/** One OtherTSLPointer of a list (a LOTL's pointers to the national lists, and to itself). */
export interface TrustListPointer {
  readonly location: string;
  /** SchemeTerritory of the list pointed to. */
  readonly territory?: string;
  /** MimeType (`application/vnd.etsi.tsl+xml` for the XML form, `application/pdf` for the human-readable one). */
  readonly mimeType?: string;
  readonly tslType?: string;
  /** The certificates that may sign the list pointed to (ServiceDigitalIdentities). */
  readonly certificates: readonly X509Certificate[];
}

export interface TrustList {
  readonly schemeOperator: string;
  /** SchemeTerritory, when the list states it. */
  readonly territory?: string;
  /**
   * True when the signer's certificate was itself one of the signer anchors (pinned, as the OJ publication pins
   * the LOTL signer and a LOTL pointer a national list's), false when it chained to a CA anchor.
   */
  readonly signerPinned?: boolean;
  /** PointersToOtherTSL as signed (a LOTL's); empty or absent for a list without pointers. */
  readonly pointers?: readonly TrustListPointer[];
  readonly issued: Date;
  readonly nextUpdate?: Date;
  /** The certificate that signed the list (validated against the signer anchors). */
  readonly signer: X509Certificate;
  readonly services: readonly TrustListService[];
  /** A trust store whose anchors are the certificates of the services in force at `at` (default now). */
  trustStore(at?: Date, options?: { readonly crls?: readonly (Buffer | string)[] }): TrustStore;
  /** Is `cert` qualified at `at` (default now) according to this list? */
  statusOf(cert: X509Certificate, at?: Date): QualifiedStatus;
}

export interface LoadTrustListOptions {
  /** Who may sign trusted lists: a trust store, or certificates taken as anchors. */
  readonly signerAnchors: TrustStore | readonly X509Certificate[];
  /** Time of the signature and freshness checks. @defaultValue now */
  readonly at?: Date;
  /** Accept a list past its NextUpdate (e.g. to verify old evidence against the list of its time). @defaultValue false */
  readonly allowStale?: boolean;
}
