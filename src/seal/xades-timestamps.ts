import type { X509Certificate } from 'node:crypto';
import { createTrustStore, type Finding, type TrustStore } from '../pki/index.js';
import type { TimestampVerification } from '../timestamp/types.js';
import { verifyTimestampToken } from '../timestamp/verify.js';
import { archiveTimestampInput } from './archive-timestamp.js';
import type { UnsignedPropertiesModel } from './unsigned-properties.js';
import { EXC_C14N, excC14n } from './xml.js';

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

/** The outcome of one time-stamp property. */
export interface TimestampOutcome {
  readonly kind: 'signature' | 'archive';
  readonly genTime?: Date;
  readonly valid: boolean;
  /** The time at which the TSA certificate path was validated: the proof of existence of this token. */
  readonly validatedAt: Date;
}

export interface TimestampChainInput {
  readonly signature: Element;
  readonly signatureValue: Element;
  readonly unsigned: UnsignedPropertiesModel;
  /** Canonical octets of each ds:Reference of SignedInfo, in order (for the archive timestamp input). */
  readonly referenceOctets: readonly string[];
  readonly trust: TrustStore;
  /** Trust store over the same anchors with the embedded CRLs (B-LT), when there are any. */
  readonly embeddedRevocation?: TrustStore;
  readonly certificates: readonly X509Certificate[];
  /** The current time of this validation (the verifier's clock, or --at). */
  readonly now: Date;
  readonly signingTime?: Date;
  readonly maxClockSkewMs: number;
}

export interface TimestampChainResult {
  readonly timestamps: readonly TimestampOutcome[];
  /** The earliest valid SignatureTimeStamp: its genTime is the proof of existence of the signature. */
  readonly signatureTimestamp?: {
    readonly genTime: Date;
    readonly valid: boolean;
    readonly tsaCertificate?: X509Certificate;
    /** PKI_REVOCATION_NOT_CHECKED findings of the TSA certificate path: its revocation status is not known. */
    readonly tsaRevocationUnchecked?: readonly Finding[];
  };
  readonly validArchiveTimestamps: number;
}

/**
 * Validate the time-stamps of a XAdES signature as a chain of proofs of existence (EN 319 102-1 §5.6.2,
 * past signature validation, simplified): the newest ArchiveTimeStamp must hold at the current time;
 * its genTime proves that everything it covers (earlier archive timestamps, the validation data, the
 * SignatureTimeStamp) existed then, so each earlier token is validated at the genTime of the valid
 * token that covers it; the SignatureTimeStamp's genTime is then the time the signer's certificate is
 * validated at. Without an archive timestamp (B-T), the SignatureTimeStamp must hold at the current
 * time: once its TSA certificate has expired, nothing proves when the token was made.
 *
 * A token that is present but broken is an error, never ignored: an evidence file changed after
 * issuance must not pass, even where the rest would still validate.
 */
export async function checkTimestampChain(
  input: TimestampChainInput,
  findings: Finding[],
): Promise<TimestampChainResult> {
  const outcomes = new Map<Element, TimestampOutcome>();
  let poe = input.now;
  let validArchiveTimestamps = 0;
  const archives = input.unsigned.timeStamps.filter((t) => t.kind === 'archive');
  for (const ts of [...archives].reverse()) {
    if (ts.canonicalization !== EXC_C14N) {
      findings.push(
        err(
          'SEAL_TIMESTAMP_UNSUPPORTED',
          `ArchiveTimeStamp canonicalization ${ts.canonicalization ?? '(none)'} is not supported`,
        ),
      );
      outcomes.set(ts.element, { kind: 'archive', valid: false, validatedAt: poe });
      continue;
    }
    const data = archiveTimestampInput(
      input.signature,
      input.referenceOctets,
      input.unsigned.element,
      ts.element,
    );
    const r = await verifyOne('ArchiveTimeStamp', ts.token, data, poe, input, findings);
    outcomes.set(ts.element, { kind: 'archive', genTime: r.genTime, valid: r.valid, validatedAt: poe });
    if (r.valid && r.genTime) {
      validArchiveTimestamps += 1;
      poe = r.genTime;
    }
  }

  let signatureTimestamp: TimestampChainResult['signatureTimestamp'];
  const data = Buffer.from(excC14n(input.signatureValue), 'utf8');
  for (const ts of input.unsigned.timeStamps.filter((t) => t.kind === 'signature')) {
    if (ts.canonicalization !== EXC_C14N) {
      findings.push(
        err(
          'SEAL_TIMESTAMP_UNSUPPORTED',
          `SignatureTimeStamp canonicalization ${ts.canonicalization ?? '(C14N 1.0 default)'} is not supported`,
        ),
      );
      continue;
    }
    const r = await verifyOne('SignatureTimeStamp', ts.token, data, poe, input, findings);
    let valid = r.valid && !!r.genTime;
    if (
      valid &&
      r.genTime &&
      input.signingTime &&
      r.genTime.getTime() < input.signingTime.getTime() - input.maxClockSkewMs
    ) {
      findings.push(
        err(
          'SEAL_TIMESTAMP_BEFORE_SIGNING_TIME',
          `the timestamp (${r.genTime.toISOString()}) predates SigningTime (${input.signingTime.toISOString()})`,
        ),
      );
      valid = false;
    }
    outcomes.set(ts.element, { kind: 'signature', genTime: r.genTime, valid, validatedAt: poe });
    // With several timestamps, the earliest valid one gives the proof of existence.
    if (
      r.genTime &&
      (!signatureTimestamp ||
        (valid && (!signatureTimestamp.valid || r.genTime < signatureTimestamp.genTime)))
    ) {
      const unchecked = r.findings.filter((f) => f.code === 'PKI_REVOCATION_NOT_CHECKED');
      signatureTimestamp = {
        genTime: r.genTime,
        valid,
        ...(r.tsaCertificate ? { tsaCertificate: r.tsaCertificate } : {}),
        ...(unchecked.length ? { tsaRevocationUnchecked: unchecked } : {}),
      };
    }
  }
  const timestamps = input.unsigned.timeStamps
    .map((t) => outcomes.get(t.element))
    .filter((o): o is TimestampOutcome => !!o);
  return { timestamps, signatureTimestamp, validArchiveTimestamps };
}

/** Token codes that mean the token itself was altered or forged (not merely untrusted). */
const TOKEN_ALTERED = new Set([
  'TSA_SIGNATURE_INVALID',
  'TSA_SIGNING_CERT_MISMATCH',
  'TSA_SIGNER_CERT_MISSING',
]);

async function verifyOne(
  what: string,
  token: Buffer,
  data: Buffer,
  at: Date,
  input: TimestampChainInput,
  findings: Finding[],
): Promise<TimestampVerification> {
  // B-LT: the embedded CRLs count beside the store's (a revocation in either; the status known when either covers `at`).
  const r = await verifyTimestampToken(token, {
    data,
    trust: input.embeddedRevocation ?? input.trust,
    at,
    certificates: input.certificates,
  });
  // The token's own findings stay warnings: the error below names the timestamp, so that a TSA problem
  // (its revoked certificate) is not taken for one of the signer's.
  for (const f of r.findings) if (f.severity !== 'info') findings.push(warn(f.code, `${what}: ${f.message}`));
  if (r.valid) return r;
  const codes = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code));
  // The token's own failure first: an altered token usually no longer matches its imprint either.
  if (codes.has('TSA_TOKEN_MALFORMED')) {
    findings.push(err('SEAL_TIMESTAMP_MALFORMED', `the ${what} token cannot be read`));
  } else if ([...codes].some((c) => TOKEN_ALTERED.has(c))) {
    findings.push(
      err(
        'SEAL_TIMESTAMP_SIG_FAILURE',
        `the ${what} token's signature does not verify: the token was changed`,
      ),
    );
  } else if (codes.has('TSA_IMPRINT_MISMATCH')) {
    findings.push(
      err(
        'SEAL_TIMESTAMP_HASH_FAILURE',
        `the ${what} does not cover the signature as it is now: the signature or a covered property was changed`,
      ),
    );
  } else if (r.findings.some((f) => f.code === 'PKI_CERT_EXPIRED' || f.code === 'PKI_CERT_NOT_YET_VALID')) {
    findings.push(
      err(
        'SEAL_TIMESTAMP_OUT_OF_BOUNDS',
        `the ${what}'s TSA certificate is not valid at ${at.toISOString()} and no later timestamp proves the token older`,
      ),
    );
  } else if (codes.has('PKI_REVOCATION_STALE')) {
    findings.push(
      err('PKI_REVOCATION_STALE', `the ${what}'s TSA certificate: no CRL covers ${at.toISOString()}`),
    );
  } else {
    findings.push(err('SEAL_TIMESTAMP_INVALID', `the ${what} does not verify`));
  }
  return { ...r, valid: false };
}

/** A trust store over the caller's anchors that knows the embedded CRLs, or undefined when none. */
export function embeddedRevocationStore(trust: TrustStore, crls: readonly Buffer[]): TrustStore | undefined {
  // The store's own CRLs too: for freshness (crlCovers) the newest of either may be the one covering a time.
  return crls.length > 0
    ? createTrustStore(trust.anchors, { crls: trust.crls, embeddedCrls: crls })
    : undefined;
}
