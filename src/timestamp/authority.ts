import { QerdsError } from '../core/errors.js';
import { systemClock } from '../core/ports.js';
import { CMS_OID, createCmsSignature, prepareCmsSigner, type CmsSigner } from '../crypto/index.js';
import {
  certificateNameDer,
  derObjectIdentifier,
  derTlv,
  digestNameOfOid,
  type SigningIdentity,
} from '../pki/index.js';
import { createRandomPool } from './random-pool.js';
import { readTimestampRequest, type TimeStampReq } from './request-read.js';
import { expectedDigestLength } from './request.js';
import { writeTstInfo } from './tst-info-writer.js';
import { DEV_TSA_POLICY, type TimestampAuthority, type TimestampAuthorityOptions } from './types.js';

/** PKIFailureInfo bits (RFC 3161 §2.4.2) that this TSA reports. */
const FAILURE_BIT = Object.freeze({
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  systemFailure: 25,
});
type FailureName = keyof typeof FAILURE_BIT;

/** The TSA's CMS signer; RSA-PSS, EdDSA and others are refused (not wired). */
function tsaSigner(identity: SigningIdentity): CmsSigner {
  try {
    return prepareCmsSigner(identity);
  } catch (e) {
    if (e instanceof QerdsError && e.code === 'CRYPTO_KEY_UNSUPPORTED') {
      throw new QerdsError(
        'TSA_KEY_UNSUPPORTED',
        `TSA keys must be RSA or ECDSA P-256/384/521, not ${identity.privateKey.asymmetricKeyType}`,
      );
    }
    throw e;
  }
}

/**
 * An RFC 3161 TSA (with the RFC 5816 ESSCertIDv2 signing-certificate attribute), for development, tests and
 * an embedded default. Tokens are CMS SignedData over a TSTInfo, signed with node:crypto.
 */
export function createTimestampAuthority(options: TimestampAuthorityOptions): TimestampAuthority {
  const { identity } = options;
  const policy = options.policyOid ?? DEV_TSA_POLICY;
  const accepted = new Set(options.acceptedPolicies ?? [policy]);
  const clock = options.clock ?? systemClock;
  const accuracy = options.accuracy ?? { seconds: 1 };
  const random = createRandomPool();
  const nextSerial = options.serialNumber ?? (() => BigInt(`0x${random(16).toString('hex')}`));
  // Everything that is the same in every token (SignerIdentifier, the ESS signing-certificate-v2 attribute, the
  // certificates field) is encoded once here; re-serialising parsed certificates per token doubled its cost.
  const signer = tsaSigner(identity);
  // RFC 3161 §2.4.2: the tsa field, when present, names the TSA as one of its certificate's subject names.
  const tsaName = options.tsaName ? certificateNameDer(identity.certificate, 'subject') : undefined;

  function tokenFor(req: TimeStampReq): Buffer {
    const genTime = clock.now();
    const { hashAlgorithm, parameters, hashedMessage } = req.messageImprint;
    const tstInfoDer = writeTstInfo({
      policy,
      // RFC 3161 §2.4.2: the imprint "MUST have the same value as the similar field in TimeStampReq".
      messageImprint: derTlv(
        0x30,
        derTlv(0x30, derObjectIdentifier(hashAlgorithm), ...(parameters ? [parameters] : [])),
        derTlv(0x04, hashedMessage),
      ),
      serialNumber: nextSerial(),
      genTime,
      accuracy,
      // RFC 3161 §2.4.2: the nonce MUST be echoed when the request had one.
      ...(req.nonce ? { nonce: req.nonce } : {}),
      ...(tsaName ? { tsaName } : {}),
    });
    return createCmsSignature(signer, {
      eContentType: CMS_OID.tstInfo,
      content: tstInfoDer,
      encapsulate: true,
      signingTime: genTime,
      includeCertificates: req.certReq,
    }).encode();
  }

  async function respond(requestDer: Buffer): Promise<Buffer> {
    let req: TimeStampReq;
    try {
      req = readTimestampRequest(requestDer);
    } catch (e) {
      const said = e instanceof QerdsError && e.code === 'TSA_BAD_REQUEST';
      return rejection('badDataFormat', said ? e.message : 'the request is not a DER TimeStampReq');
    }
    if (req.version !== 1) return rejection('badDataFormat', `unsupported request version ${req.version}`);
    const { hashAlgorithm, hashedMessage } = req.messageImprint;
    const algorithm = digestNameOfOid(hashAlgorithm);
    // Only SHA-2 imprints: with a collision-prone hash (MD5, SHA-1) one token would vouch for two documents.
    if (!algorithm) return rejection('badAlg', `unsupported hash algorithm ${hashAlgorithm}`);
    if (hashedMessage.length !== expectedDigestLength(algorithm)) {
      return rejection('badDataFormat', `the imprint is not a ${algorithm} digest`);
    }
    if (req.reqPolicy !== undefined && !accepted.has(req.reqPolicy)) {
      return rejection('unacceptedPolicy', `policy ${req.reqPolicy} is not offered by this TSA`);
    }
    if (req.extensionCount > 0) return rejection('unacceptedExtension', 'no request extension is supported');
    try {
      const token = tokenFor(req);
      return derTlv(0x30, GRANTED, token);
    } catch {
      return rejection('systemFailure', 'the TSA could not sign the token');
    }
  }

  return Object.freeze({ policy, certificate: identity.certificate, respond });
}

/** PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL, failInfo PKIFailureInfo OPTIONAL } */
function statusInfo(status: number, text?: string, failure?: FailureName): Buffer {
  const parts = [derTlv(0x02, Buffer.from([status]))];
  if (text) parts.push(derTlv(0x30, derTlv(0x0c, Buffer.from(text, 'utf8'))));
  if (failure) parts.push(failureInfoDer(FAILURE_BIT[failure]));
  return derTlv(0x30, ...parts);
}

/** A named-bit BIT STRING with one bit set, trailing zero bits removed (X.690 §11.2.2). */
function failureInfoDer(bit: number): Buffer {
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> (bit % 8);
  return derTlv(0x03, Buffer.from([7 - (bit % 8)]), bytes);
}

/** PKIStatusInfo of a granted request: the same in every answer. */
const GRANTED = statusInfo(0);

function rejection(failure: FailureName, text: string): Buffer {
  return derTlv(0x30, statusInfo(2, text, failure));
}
