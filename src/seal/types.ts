import type { X509Certificate } from 'node:crypto';
import type { Clock, IdGenerator, TsaClient } from '../core/ports.js';
import type { Finding, Signer, SigningIdentity, TrustStore } from '../pki/types.js';

/** Options of {@link sealXml}: an enveloped XAdES baseline signature (EN 319 132-1). */
export interface XadesSealOptions {
  /**
   * The e-seal key and certificate (chain after the leaf goes into KeyInfo too): a key in this process, or a
   * {@link Signer} whose key stays elsewhere (a PKCS#11 token).
   */
  readonly identity: SigningIdentity | Signer;
  /** When present, a SignatureTimeStamp is added: level B-T. Absent: level B-B. */
  readonly tsa?: TsaClient;
  /** Source of SigningTime. */
  readonly clock: Clock;
  /** Source of the ds:Signature Id (other Ids are derived from it). */
  readonly idGenerator: IdGenerator;
  /**
   * SignatureMethod URI.
   * @defaultValue rsa-sha256 for RSA keys, ecdsa-sha256 for EC keys
   */
  readonly signatureAlgorithm?: string;
  /**
   * XPath (no namespace prefixes; use `local-name()`) of the element that receives ds:Signature as its
   * last child.
   * @defaultValue the document element
   */
  readonly parentXPath?: string;
  /**
   * With `tsa`: raise the seal to B-LT on the spot, as {@link augmentXmlSeal} with level B-LT would (same
   * CertificateValues and RevocationValues, same refusal of CRLs that do not cover the signing time,
   * SEAL_REVOCATION_STALE), without serializing, parsing and re-reading the timestamp in between: the
   * SignatureTimeStamp's genTime is the one the TSA client has just verified.
   * @defaultValue none (B-T with `tsa`)
   */
  readonly longTerm?: {
    /** CRLs to embed (DER, or PEM with one or more X509 CRL blocks); only those covering the signing time. */
    readonly crls: readonly (Buffer | string)[];
    /** CA and intermediate certificates of the signer's and the TSA's paths. */
    readonly certificates: readonly X509Certificate[];
  };
}

/** Options of {@link verifyXmlSeal}. */
export interface VerifyXmlSealOptions {
  /** Trust anchors (and CRLs) for the signer's and the TSA's certificate paths. */
  readonly trust: TrustStore;
  /**
   * The current time of this validation ("validate as if it were then"). The newest timestamp must
   * hold at this time; each older one is validated at the genTime of the timestamp that covers it, and
   * the signer's certificate at the genTime of the SignatureTimeStamp (or at this time, with no valid
   * timestamp: a claimed SigningTime is no proof of existence).
   * @defaultValue the current time
   */
  readonly at?: Date;
  /**
   * How far (ms) the timestamp's genTime may lie before SigningTime (clocks of signer and TSA differ).
   * @defaultValue 300000 (5 minutes)
   */
  readonly maxClockSkewMs?: number;
  /** Accept SHA-1 digests and signatures. @defaultValue false */
  readonly allowUnsafeAlgorithms?: boolean;
}

export type SealLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | 'none';

export interface SealVerification {
  readonly valid: boolean;
  /**
   * The level the signature reached: B-T with a valid SignatureTimeStamp; B-LT when it also embeds
   * CertificateValues and RevocationValues; B-LTA with a valid ArchiveTimeStamp.
   */
  readonly level: SealLevel;
  /** xades:SigningTime (claimed by the signer). */
  readonly signingTime?: Date;
  /** The certificate named by SigningCertificateV2 and found in KeyInfo. */
  readonly signer?: X509Certificate;
  /** The earliest valid SignatureTimeStamp, with the certificate of the TSA that signed it. */
  readonly timestamp?: {
    readonly genTime: Date;
    readonly valid: boolean;
    readonly tsaCertificate?: X509Certificate;
    /**
     * The TSA certificate path's PKI_REVOCATION_NOT_CHECKED findings (no CRL in the trust store nor in the
     * RevocationValues covers it). The seal verification reports them as information; evidence verification makes
     * them TSA_REVOCATION_UNKNOWN.
     */
    readonly tsaRevocationUnchecked?: readonly Finding[];
  };
  /** Every SignatureTimeStamp and ArchiveTimeStamp in document order, with the time it was validated at. */
  readonly timestamps?: readonly {
    readonly kind: 'signature' | 'archive';
    readonly genTime?: Date;
    readonly valid: boolean;
    readonly validatedAt: Date;
  }[];
  /** The current time of the validation (`at`, or the clock). */
  readonly validationTime?: Date;
  readonly findings: Finding[];
  /**
   * Exclusive-C14N form of each reference whose digest matched, in SignedInfo order. Use these, not
   * nodes of the input document: they are what the signature covers.
   */
  readonly signedReferences: string[];
  /**
   * The canonical form of the whole-document reference (URI="" minus the signature) when its digest
   * matched: the document to read after verification.
   */
  readonly signedDocument?: string;
}

/**
 * An XML document its producer wrote as text, with what an enveloped seal needs to know of it, so that the seal
 * is made without parsing it (sealWrittenXml): the producer answers for `canonical` and `ids` being what a strict
 * parse of `xml` gives (evidence/evidence-text.ts; its tests check both against a parse).
 */
export interface WrittenXml {
  /** The document, as it will be stored and read. */
  readonly xml: string;
  /** Offset in `xml` of the document element's end tag: ds:Signature goes there, as its last child. */
  readonly signatureAt: number;
  /**
   * The document element's Exclusive C14N form (without comments) as our canonicalizer gives it on a strict parse
   * of `xml`: what the whole-document Reference (enveloped-signature, exc-c14n) digests.
   */
  readonly canonical: string;
  /** Every value of an Id, ID or id attribute in the document (the seal's own Ids must not clash with one). */
  readonly ids: readonly string[];
}
