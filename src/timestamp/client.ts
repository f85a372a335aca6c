import type { X509Certificate } from 'node:crypto';
import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { readBodyAtMost } from '../core/response-body.js';
import type { MessageImprint, TimeStampToken, TsaClient } from '../core/ports.js';
import { derChildren, derIntegerValue, readDerElement, type TrustStore } from '../pki/index.js';
import { createRandomPool } from './random-pool.js';
import { encodeTimestampRequest } from './request.js';
import type { HttpTsaClientOptions, TimestampAuthority, TsaClientOptions } from './types.js';
import { verifyTimestampToken } from './verify.js';

const PKI_STATUS = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
];
/** A TimeStampResp is a few KiB; anything far larger is not one and is not read into memory. */
const MAX_RESPONSE_BYTES = 1 << 20;

/**
 * Turn a DER TimeStampResp into a token, refusing anything but a granted token that answers this very request:
 * same nonce (else an old reply could be replayed), same imprint (else a token for other data could be
 * substituted), valid signature, and with `trust`, a trusted TSA certificate.
 */
export async function acceptTimestampResponse(
  responseDer: Buffer,
  request: {
    readonly imprint: MessageImprint;
    readonly nonce: bigint;
    readonly policy?: string;
    readonly trust?: TrustStore;
    /** The TSA certificate, when the token may not carry it (certReq false). */
    readonly certificates?: readonly X509Certificate[];
  },
): Promise<TimeStampToken> {
  let statusValue: bigint;
  let statusText = '';
  let tokenDer: Buffer | undefined;
  try {
    const resp = readDerElement(responseDer);
    // The reply crosses a trust boundary: exactly one TimeStampResp SEQUENCE, nothing after it (threat: a
    // parser differential, octets this client never looked at being read otherwise by another reader).
    if (resp.tag !== 0x30) throw new Error('not a SEQUENCE');
    if (resp.bytes.length !== responseDer.length) throw new Error('octets follow the TimeStampResp');
    const [statusInfo, token, extra] = derChildren(resp);
    if (statusInfo?.tag !== 0x30) throw new Error('no PKIStatusInfo');
    if (extra) throw new Error('unexpected elements after the token');
    const [status, ...rest] = derChildren(statusInfo);
    if (!status) throw new Error('no PKIStatus');
    statusValue = derIntegerValue(status);
    const freeText = rest.find((el) => el.tag === 0x30);
    if (freeText)
      statusText = derChildren(freeText)
        .map((s) => s.content.toString('utf8'))
        .join('; ');
    if (token) tokenDer = Buffer.from(token.bytes);
  } catch (cause) {
    throw new QerdsError('TSA_TOKEN_MALFORMED', 'the TSA reply is not a DER TimeStampResp', { cause });
  }
  if (statusValue > 1n) {
    const name = PKI_STATUS[Number(statusValue)] ?? `status ${statusValue}`;
    throw new QerdsError('TSA_REJECTED', `the TSA answered ${name}${statusText ? `: ${statusText}` : ''}`, {
      details: { status: name, statusText },
    });
  }
  if (!tokenDer) throw new QerdsError('TSA_TOKEN_MALFORMED', 'the TSA granted the request but sent no token');

  const v = await verifyTimestampToken(tokenDer, {
    imprint: request.imprint,
    ...(request.trust ? { trust: request.trust } : {}),
    ...(request.certificates ? { certificates: request.certificates } : {}),
  });
  if (v.nonce !== request.nonce && v.findings.every((f) => f.code !== 'TSA_TOKEN_MALFORMED')) {
    throw new QerdsError(
      'TSA_NONCE_MISMATCH',
      'the token does not echo the nonce of the request (replayed reply?)',
    );
  }
  const failed = v.findings.find((f) => f.severity === 'error');
  if (failed) {
    // The verifier's error findings carry catalogued codes (TSA_*, PKI_*); Finding.code itself is a plain string.
    throw new QerdsError(
      failed.code as QerdsErrorCode,
      `the TSA token is not acceptable: ${failed.message}`,
      { details: { findings: v.findings } },
    );
  }
  if (request.policy !== undefined && v.policy !== request.policy) {
    throw new QerdsError('TSA_POLICY_MISMATCH', `asked for policy ${request.policy}, got ${v.policy}`);
  }
  return Object.freeze({
    der: tokenDer,
    genTime: v.genTime!,
    serialNumber: v.serialNumber!,
    policy: v.policy!,
  });
}

/** A TsaClient over an in-process TSA (the embedded default, tests): same request/response path as over HTTP. */
export function createLocalTsaClient(tsa: TimestampAuthority, options: TsaClientOptions = {}): TsaClient {
  const random = createRandomPool();
  return {
    async timestamp(imprint) {
      const { der, nonce } = encodeTimestampRequest(imprint, {
        nonce: freshNonce(random),
        certReq: options.certReq ?? true,
        ...(options.policy ? { policy: options.policy } : {}),
      });
      return acceptTimestampResponse(await tsa.respond(der), {
        imprint,
        nonce,
        certificates: [tsa.certificate],
        ...pick(options),
      });
    },
  };
}

/** A TsaClient for a remote TSA over HTTP (RFC 3161 §3.4): POST application/timestamp-query. */
export function createHttpTsaClient(options: HttpTsaClientOptions): TsaClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const random = createRandomPool();
  return {
    async timestamp(imprint) {
      const { der, nonce } = encodeTimestampRequest(imprint, {
        nonce: freshNonce(random),
        certReq: options.certReq ?? true,
        ...(options.policy ? { policy: options.policy } : {}),
      });
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
          body: new Uint8Array(der),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        throw new QerdsError('TSA_UNAVAILABLE', `cannot reach the TSA at ${options.url}`, { cause });
      }
      if (!response.ok) {
        throw new QerdsError(
          'TSA_UNAVAILABLE',
          `the TSA at ${options.url} answered HTTP ${response.status}`,
          {
            details: { httpStatus: response.status },
          },
        );
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.toLowerCase().startsWith('application/timestamp-reply')) {
        throw new QerdsError(
          'TSA_BAD_RESPONSE',
          `the TSA answered ${type || 'no content type'}, not application/timestamp-reply`,
        );
      }
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > MAX_RESPONSE_BYTES)
        throw new QerdsError('TSA_BAD_RESPONSE', `a ${length}-byte reply is too large`);
      const body = await readBodyAtMost(response, MAX_RESPONSE_BYTES);
      if (!body) throw new QerdsError('TSA_BAD_RESPONSE', `the reply exceeds ${MAX_RESPONSE_BYTES} bytes`);
      return acceptTimestampResponse(body, { imprint, nonce, ...pick(options) });
    },
  };
}

/** 64 random bits, fresh for each request: the reply must echo them, so an old reply cannot be replayed. */
function freshNonce(random: (length: number) => Buffer): bigint {
  return BigInt(`0x${random(8).toString('hex')}`);
}

function pick(options: TsaClientOptions): { policy?: string; trust?: TrustStore } {
  return {
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.trust ? { trust: options.trust } : {}),
  };
}
