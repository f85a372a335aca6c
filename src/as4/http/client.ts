import { isQerdsError, QerdsError } from '../../core/index.js';
import { ebmsErrors, isEbmsErrorCode, qerdsCodeOf } from '../model/ebms-errors.js';
import { parseEnvelope } from '../message/envelope-parse.js';
import { parseContentType } from '../message/mime-content-type.js';
import { contentIdFromCid } from '../message/multipart.js';
import { decodeMultipart } from '../message/multipart-stream.js';
import { SOAP11_MEDIA_TYPE, SOAP12_MEDIA_TYPE } from '../model/namespaces.js';
import type { SendUserMessageOptions, SendUserMessageResult, SignedDigest } from '../model/types.js';
import { requestWithNodeHttp, type As4HttpAnswer } from '../../pki/tls-client.js';
import { scratchDirectory } from '../message/streamed-body.js';
import { packUserMessage, packUserMessageStreaming } from '../message/user-message-pack.js';
import { verifyEnvelope } from '../security/ws-security-verify.js';
import { parseXml } from '../message/xml-util.js';

const MAX_RESPONSE_BYTES = 10_485_760;

/**
 * Whether a request failed because the connection was closed or reset before any answer: what a reused
 * keep-alive socket that the server timed out meanwhile gives (node:http: ECONNRESET "socket hang up", or EPIPE;
 * fetch: UND_ERR_SOCKET, "other side closed"). A refused connection or a timeout is not this.
 */
export function closedBeforeAnswer(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return true;
  }
  return false;
}

const invalidReceipt = (message: string, details: Record<string, unknown> = {}): never => {
  throw new QerdsError('AS4_EBMS_0302', message, { details: { retryable: true, ...details } });
};

/**
 * Push a signed AS4 UserMessage and take the synchronous NRR receipt (AS4 "one-way/push" with a
 * synchronous receipt). The receipt must be signed by the receiver (trust store and/or its certificate),
 * refer to our MessageId and repeat the digests we signed; otherwise QerdsError AS4_EBMS_0302. An Error
 * signal becomes QerdsError AS4_EBMS_<code>; no answer at all is AS4_EBMS_0005. `details.retryable`
 * says whether sending again may help.
 */
export async function sendUserMessage(options: SendUserMessageOptions): Promise<SendUserMessageResult> {
  const hrefs = new Set(options.message.payloads.map((p) => contentIdFromCid(p.href)));
  if (hrefs.size !== options.attachments.length || options.attachments.some((a) => !hrefs.has(a.contentId))) {
    throw new QerdsError(
      'AS4_EBMS_0007',
      'every attachment needs exactly one PartInfo with href="cid:<Content-ID>"',
    );
  }
  const { message, attachments } = options;
  // Streamed attachments (large payloads) are packed and sent as a stream; GZIP files go to a scratch directory.
  const scratch = attachments.some((a) => a.stream) ? scratchDirectory(options.spoolDir) : undefined;
  let response: As4HttpAnswer;
  let references: readonly SignedDigest[];
  let timer: NodeJS.Timeout | undefined;
  try {
    const packInput = {
      message,
      attachments,
      identity: options.identity,
      compress: options.compress,
      encryptFor: options.encryptFor,
    };
    const mime = scratch
      ? await packUserMessageStreaming({ ...packInput, spoolDir: await scratch.dir() })
      : options.pack
        ? await options.pack(packInput)
        : packUserMessage(packInput);
    references = mime.references;
    const body = mime.body;
    const headers = {
      'Content-Type': mime.contentType,
      'MIME-Version': '1.0',
      'Content-Length': String(Buffer.isBuffer(body) ? body.length : body.size),
    };
    // The exchange's deadline: a timer of our own, cleared once the answer is in, not AbortSignal.timeout (a weakly
    // held timer and signal per request: 10 µs of CPU against 3 µs in a micro-benchmark, more in a busy process).
    const timeout = new AbortController();
    timer = setTimeout(
      () => timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      options.timeoutMs ?? 60_000,
    );
    timer.unref();
    const signal = timeout.signal;
    const http = options.http ?? requestWithNodeHttp;
    // Counted while it arrives: a peer (from the directory or an SMP) must not stream an unbounded answer into memory.
    const request = { headers, signal, maxResponseBytes: MAX_RESPONSE_BYTES };
    response = Buffer.isBuffer(body)
      ? // A keep-alive connection the peer closed just as we reused it fails before any answer: one immediate
        // second try on a new connection. Safe for a POST here because the receiver drops a repeated MessageId
        // (answering with its receipt), and cheaper than a relay retry with back-off. A stream cannot be replayed.
        await http(options.endpoint, { ...request, body }).catch((error: unknown) => {
          if (!closedBeforeAnswer(error) || signal.aborted) throw error;
          return http(options.endpoint, { ...request, body });
        })
      : // Streamed from the attachments' sources with the socket's back-pressure (see multipart.ts).
        await http(options.endpoint, { ...request, body: body.open() });
  } catch (cause) {
    // TLS refusals (pin, untrusted server) come named from the TLS client; keep their code for the operator.
    if (isQerdsError(cause)) throw cause;
    const reason = (cause as Error & { cause?: Error }).cause?.message;
    const message = `${(cause as Error).message}${reason ? ` (${reason})` : ''}`;
    throw new QerdsError('AS4_EBMS_0005', `cannot reach ${options.endpoint}: ${message}`, {
      cause,
      details: { retryable: true },
    });
  } finally {
    clearTimeout(timer);
    await scratch?.remove();
  }
  const httpStatus = response.status;
  // Not followed, as no As4HttpClient follows one: the endpoint is the one the P-Mode or the directory names, and a
  // redirect would replay the signed message elsewhere.
  if (httpStatus >= 300 && httpStatus < 400)
    throw new QerdsError(
      'AS4_EBMS_0005',
      `${options.endpoint} answered HTTP ${httpStatus}, a redirect${response.headers.location ? ` to ${response.headers.location}` : ''}: not followed`,
      { details: { httpStatus, retryable: true } },
    );
  const body = response.body;
  if (!body) return invalidReceipt('response too large', { httpStatus });
  const contentType = response.headers['content-type'] ?? '';
  let envelopeXml: string;
  try {
    const media = parseContentType(contentType).mediaType;
    if (media === 'multipart/related') envelopeXml = decodeMultipart(contentType, body).envelope;
    else if (media === SOAP12_MEDIA_TYPE || media === SOAP11_MEDIA_TYPE)
      envelopeXml = new TextDecoder('utf-8', { fatal: true }).decode(body);
    else throw new Error(`Content-Type ${media}`);
  } catch (cause) {
    // Not an AS4 answer at all (proxy error page, …): a transport problem when the server failed.
    if (httpStatus >= 500 || httpStatus === 429 || httpStatus === 408) {
      throw new QerdsError('AS4_EBMS_0005', `HTTP ${httpStatus} without an AS4 signal`, {
        cause,
        details: { httpStatus, retryable: true },
      });
    }
    return invalidReceipt(`HTTP ${httpStatus}: response is not a SOAP message`, { httpStatus });
  }

  let responseDoc: Document;
  let parsed: ReturnType<typeof parseEnvelope>;
  try {
    responseDoc = parseXml(envelopeXml);
    parsed = parseEnvelope(responseDoc);
  } catch (cause) {
    return invalidReceipt(`response is not a valid AS4 signal: ${(cause as Error).message}`, { httpStatus });
  }
  const verification = verifyEnvelope(responseDoc, [], {
    ...(options.trust ? { trust: options.trust } : {}),
    ...(options.receiverCertificate ? { expectedCertificate: options.receiverCertificate } : {}),
    tlsEkuSigners: options.tlsEkuSigners === true,
  });

  if (parsed.kind === 'error') {
    const first = parsed.errors[0]!;
    const code = isEbmsErrorCode(first.errorCode) ? first.errorCode : 'EBMS:0004';
    const def = ebmsErrors.get(code)!;
    throw new QerdsError(
      qerdsCodeOf(code),
      `receiver answered ${first.errorCode} ${first.shortDescription ?? def.shortDescription}${first.errorDetail ? `: ${first.errorDetail}` : ''}`,
      {
        details: {
          httpStatus,
          errors: parsed.errors,
          retryable: def.retryable,
          signalSigned: verification.valid,
          errorXml: envelopeXml,
        },
      },
    );
  }
  if (parsed.kind !== 'receipt')
    return invalidReceipt('response is a UserMessage, not a receipt', { httpStatus });
  if (!verification.valid || !verification.signer)
    return invalidReceipt('receipt signature is not valid', { httpStatus, findings: verification.findings });
  const receipt = parsed.receipt;
  if (receipt.refToMessageId !== message.messageId)
    return invalidReceipt(`receipt refers to ${receipt.refToMessageId}, not ${message.messageId}`, {
      httpStatus,
    });
  // NRR: every part we signed must be acknowledged with the digest we computed (AS4 §5.1.8, EBMS:0302).
  for (const ref of options.requireNonRepudiation === false ? [] : references) {
    const ack = receipt.nonRepudiation.find((r) => r.uri === ref.uri);
    if (!ack || ack.digestValue !== ref.digestValue || ack.digestMethod !== ref.digestMethod) {
      return invalidReceipt(`receipt does not acknowledge ${ref.uri} with our digest`, { httpStatus });
    }
  }
  return { receipt, receiptXml: envelopeXml, httpStatus, signer: verification.signer };
}
