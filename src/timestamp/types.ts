import type { X509Certificate } from 'node:crypto';
import type { Clock, MessageImprint } from '../core/ports.js';
import type { Finding, SigningIdentity, TrustStore } from '../pki/types.js';

/**
 * The dev/test TSA policy OID: arc 1.1 under IANA private enterprise number 32473, which RFC 5612 reserves
 * for documentation and examples. It names no real policy: a production TSA uses its QTSP's policy OID.
 */
export const DEV_TSA_POLICY = '1.3.6.1.4.1.32473.1.1';

/** An RFC 3161 time-stamping authority: DER TimeStampReq in, DER TimeStampResp out. */
export interface TimestampAuthority {
  /** The policy OID put in every TSTInfo. */
  readonly policy: string;
  /** The TSA's certificate (EKU timeStamping, critical). */
  readonly certificate: X509Certificate;
  /**
   * Answer a request. Never throws for a bad request: undecodable, unsupported or refused requests get a
   * TimeStampResp with status `rejection` and a PKIFailureInfo bit, as RFC 3161 §2.4.2 asks.
   */
  respond(requestDer: Buffer): Promise<Buffer>;
}

export interface TimestampAuthorityOptions {
  /** The TSA key and certificate (its EKU must be timeStamping, critical). */
  readonly identity: SigningIdentity;
  /** Policy OID of the tokens. @defaultValue DEV_TSA_POLICY */
  readonly policyOid?: string;
  /** Policies a request may ask for (reqPolicy); others are refused with unacceptedPolicy. @defaultValue [policyOid] */
  readonly acceptedPolicies?: readonly string[];
  /** Source of genTime and signingTime. @defaultValue systemClock */
  readonly clock?: Clock;
  /** TSTInfo.accuracy. @defaultValue { seconds: 1 } */
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number };
  /** Put the TSA's certificate subject in TSTInfo.tsa (directoryName, RFC 3161 §2.4.2). @defaultValue false */
  readonly tsaName?: boolean;
  /** TSTInfo.serialNumber generator; must be unique per token. @defaultValue 128 random bits */
  readonly serialNumber?: () => bigint;
}

/** What the verification of a TimeStampToken found. `valid` is true when no finding is an error. */
export interface TimestampVerification {
  readonly valid: boolean;
  readonly genTime?: Date;
  readonly policy?: string;
  /** TSTInfo.serialNumber, lower-case hex. */
  readonly serialNumber?: string;
  readonly imprint?: MessageImprint;
  readonly nonce?: bigint;
  /** TSTInfo.accuracy in milliseconds, when the token states one. */
  readonly accuracyMs?: number;
  /** TSTInfo.tsa when it is a directoryName, as a distinguished name string (checked against the signer). */
  readonly tsaName?: string;
  readonly tsaCertificate?: X509Certificate;
  readonly findings: readonly Finding[];
}

export interface VerifyTimestampOptions {
  /** The imprint the token must carry. */
  readonly imprint?: MessageImprint;
  /** The data the token must cover (hashed with the token's algorithm). Ignored when `imprint` is given. */
  readonly data?: Buffer;
  /** Trust anchors for the TSA certificate path; without it the path is not checked (warning). */
  readonly trust?: TrustStore;
  /** Time at which the TSA certificate path is validated. @defaultValue the token's genTime */
  readonly at?: Date;
  /** Candidate TSA and intermediate certificates, for tokens issued without certReq. @defaultValue [] */
  readonly certificates?: readonly X509Certificate[];
}

export interface TsaClientOptions {
  /** Ask the TSA to include its certificate. @defaultValue true */
  readonly certReq?: boolean;
  /** reqPolicy to ask for. @defaultValue none (the TSA's default) */
  readonly policy?: string;
  /** When given, every token's TSA certificate must validate against it at genTime. @defaultValue none */
  readonly trust?: TrustStore;
}

export interface HttpTsaClientOptions extends TsaClientOptions {
  /** The TSA's URL (RFC 3161 §3.4, HTTP POST). */
  readonly url: string;
  /** Abort the request after this many milliseconds. @defaultValue 10000 */
  readonly timeoutMs?: number;
}
