import { randomBytes } from 'node:crypto';
import { OctetString, AsnConvert } from '@peculiar/asn1-schema';
import { MessageImprint as AsnMessageImprint, TimeStampReq } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import type { MessageImprint } from '../core/ports.js';
import { DIGEST_OIDS } from '../pki/index.js';
import { integerContent } from './asn1.js';

const DIGEST_LENGTHS = Object.freeze({ sha256: 32, sha384: 48, sha512: 64 });

/** The ASN.1 MessageImprint of an imprint; throws `TSA_BAD_IMPRINT` on a digest of the wrong length. */
export function toAsnMessageImprint(imprint: MessageImprint): AsnMessageImprint {
  const oid = DIGEST_OIDS[imprint.algorithm];
  // Only SHA-2 imprints: a collision-prone hash would let one token vouch for two documents.
  if (!oid)
    throw new QerdsError('TSA_BAD_IMPRINT', `unsupported imprint algorithm ${String(imprint.algorithm)}`);
  if (imprint.digest.length !== DIGEST_LENGTHS[imprint.algorithm]) {
    throw new QerdsError(
      'TSA_BAD_IMPRINT',
      `a ${imprint.algorithm} digest has ${DIGEST_LENGTHS[imprint.algorithm]} bytes, not ${imprint.digest.length}`,
    );
  }
  return new AsnMessageImprint({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: oid }),
    hashedMessage: new OctetString(new Uint8Array(imprint.digest)),
  });
}

export function expectedDigestLength(algorithm: keyof typeof DIGEST_LENGTHS): number {
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

/** A DER TimeStampReq (RFC 3161 §2.4.1) over `imprint`, and the nonce it carries. */
export function encodeTimestampRequest(
  imprint: MessageImprint,
  options: TimestampRequestOptions = {},
): { der: Buffer; nonce: bigint } {
  // A fresh nonce per request: the client checks the reply echoes it, so an old reply cannot be replayed.
  const nonce = options.nonce ?? BigInt(`0x${randomBytes(8).toString('hex')}`);
  if (nonce < 0n) throw new QerdsError('TSA_BAD_REQUEST', 'the nonce must not be negative');
  const req = new TimeStampReq({
    version: 1,
    messageImprint: toAsnMessageImprint(imprint),
    nonce: integerContent(nonce),
    certReq: options.certReq ?? false,
    ...(options.policy ? { reqPolicy: options.policy } : {}),
  });
  return { der: Buffer.from(AsnConvert.serialize(req)), nonce };
}
