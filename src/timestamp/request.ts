import { randomBytes } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import type { MessageImprint } from '../core/ports.js';
import {
  derAlgorithmIdentifier,
  derObjectIdentifier,
  derTlv,
  derUnsignedInteger,
  DIGEST_OIDS,
} from '../pki/index.js';

const DIGEST_LENGTHS = Object.freeze({ sha256: 32, sha384: 48, sha512: 64 });
type ImprintAlgorithm = keyof typeof DIGEST_LENGTHS;
/** Everything of a MessageImprint before the digest octets: fixed by the algorithm (the length is its digest's). */
const IMPRINT_PREFIX = Object.freeze(
  Object.fromEntries(
    (Object.keys(DIGEST_LENGTHS) as ImprintAlgorithm[]).map((a) => {
      const whole = derTlv(
        0x30,
        derAlgorithmIdentifier(DIGEST_OIDS[a]),
        derTlv(0x04, Buffer.alloc(DIGEST_LENGTHS[a])),
      );
      return [a, whole.subarray(0, whole.length - DIGEST_LENGTHS[a])];
    }),
  ) as Record<ImprintAlgorithm, Buffer>,
);
const VERSION_1 = Buffer.from([0x02, 0x01, 0x01]);
const CERT_REQ_TRUE = Buffer.from([0x01, 0x01, 0xff]);

/**
 * The DER MessageImprint of an imprint; throws `TSA_BAD_IMPRINT` on a digest of the wrong length.
 *
 *   MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
 *
 * The SHA-2 AlgorithmIdentifier has no parameters (RFC 5754 §2).
 */
export function messageImprintDer(imprint: MessageImprint): Buffer {
  const prefix = Object.hasOwn(IMPRINT_PREFIX, imprint.algorithm)
    ? IMPRINT_PREFIX[imprint.algorithm]
    : undefined;
  // Only SHA-2 imprints: a collision-prone hash would let one token vouch for two documents.
  if (!prefix)
    throw new QerdsError('TSA_BAD_IMPRINT', `unsupported imprint algorithm ${String(imprint.algorithm)}`);
  if (imprint.digest.length !== DIGEST_LENGTHS[imprint.algorithm]) {
    throw new QerdsError(
      'TSA_BAD_IMPRINT',
      `a ${imprint.algorithm} digest has ${DIGEST_LENGTHS[imprint.algorithm]} bytes, not ${imprint.digest.length}`,
    );
  }
  return Buffer.concat([prefix, imprint.digest]);
}

export function expectedDigestLength(algorithm: ImprintAlgorithm): number {
  return DIGEST_LENGTHS[algorithm];
}

export interface TimestampRequestOptions {
  /** Nonce to send. @defaultValue 64 random bits */
  readonly nonce?: bigint;
  /** Ask the TSA to include its certificate in the token. @defaultValue false (RFC 3161 default) */
  readonly certReq?: boolean;
  /** reqPolicy OID. @defaultValue none */
  readonly policy?: string;
}

/**
 * A DER TimeStampReq (RFC 3161 §2.4.1) over `imprint`, and the nonce it carries:
 *
 *   TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *     reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *     extensions [0] IMPLICIT Extensions OPTIONAL }
 *
 * certReq FALSE is the DEFAULT, so DER leaves it out (X.690 §11.5).
 */
export function encodeTimestampRequest(
  imprint: MessageImprint,
  options: TimestampRequestOptions = {},
): { der: Buffer; nonce: bigint } {
  // A fresh nonce per request: the client checks the reply echoes it, so an old reply cannot be replayed.
  const nonce = options.nonce ?? BigInt(`0x${randomBytes(8).toString('hex')}`);
  if (nonce < 0n) throw new QerdsError('TSA_BAD_REQUEST', 'the nonce must not be negative');
  const der = derTlv(
    0x30,
    VERSION_1,
    messageImprintDer(imprint),
    ...(options.policy ? [derObjectIdentifier(options.policy)] : []),
    derUnsignedInteger(nonce),
    ...(options.certReq ? [CERT_REQ_TRUE] : []),
  );
  return { der, nonce };
}
