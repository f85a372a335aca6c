import { isQerdsError, QerdsError, systemClock, uuidIdGenerator } from '../../core/index.js';
import type { As4HttpClient } from '../../pki/tls-client.js';
import { decryptAttachments } from '../security/attachment-encryption.js';
import { decompressPayloads } from '../message/compression.js';
import { ebmsErrors, isEbmsErrorCode, qerdsCodeOf } from '../model/ebms-errors.js';
import { buildPullRequestEnvelope } from '../message/envelope-build.js';
import { parseEnvelope } from '../message/envelope-parse.js';
import { parseContentType } from '../message/mime-content-type.js';
import { decodeMultipart } from '../message/multipart.js';
import { EBMS_DEFAULT_MPC, SOAP11_MEDIA_TYPE, SOAP12_MEDIA_TYPE } from '../model/namespaces.js';
import { buildReceipt } from '../message/signals.js';
import type { Attachment, PullUserMessageOptions, PullUserMessageResult } from '../model/types.js';
import { signEnvelope } from '../security/ws-security-sign.js';
import { verifyEnvelope } from '../security/ws-security-verify.js';
import { parseXml } from '../message/xml-util.js';
import { serializeXml } from '../../xml/index.js';

const SOAP12 = `${SOAP12_MEDIA_TYPE}; charset=UTF-8`;

async function post(
  endpoint: string,
  contentType: string,
  body: Buffer,
  timeoutMs: number,
  http: As4HttpClient = fetch,
): Promise<Response> {
  try {
    return await http(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    if (isQerdsError(cause)) throw cause; // named TLS refusals (pin, untrusted server)
    throw new QerdsError('AS4_EBMS_0005', `cannot reach ${endpoint}: ${(cause as Error).message}`, {
      cause,
      details: { retryable: true },
    });
  }
}

/**
 * AS4 one-way/pull, initiator side: send a signed eb:PullRequest for `mpc`; take the UserMessage from the
 * HTTP response, decrypt it, verify its signature (the responder's certificate and/or the trust store),
 * inflate it, then push a signed NRR receipt for it back to the same endpoint. Undefined when the MPC is
 * empty (EBMS:0006). Other error signals → QerdsError AS4_EBMS_<code>; a bad pulled message → its EBMS code.
 */
export async function pullUserMessage(
  options: PullUserMessageOptions,
): Promise<PullUserMessageResult | undefined> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxMessageBytes ?? 104_857_600;
  const request = buildPullRequestEnvelope({
    messageId: `${(options.idGenerator ?? uuidIdGenerator).next()}@qerds`,
    timestamp: clock.now(),
    mpc: options.mpc ?? EBMS_DEFAULT_MPC,
  });
  signEnvelope(request, [], options.identity);
  const response = await post(
    options.endpoint,
    SOAP12,
    Buffer.from(serializeXml(request), 'utf8'),
    timeoutMs,
    options.http,
  );
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > maxBytes)
    throw new QerdsError('AS4_EBMS_0007', `pulled message exceeds ${maxBytes} bytes`);
  const contentType = response.headers.get('content-type') ?? '';
  const media = parseContentType(contentType).mediaType;
  let envelopeXml: string;
  let attachments: Attachment[] = [];
  if (media === 'multipart/related') {
    const decoded = decodeMultipart(contentType, body, { maxBytes });
    envelopeXml = decoded.envelope;
    attachments = decoded.attachments;
  } else if (media === SOAP12_MEDIA_TYPE || media === SOAP11_MEDIA_TYPE) {
    envelopeXml = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } else {
    throw new QerdsError('AS4_EBMS_0005', `HTTP ${response.status} without an AS4 message (${media})`, {
      details: { retryable: response.status >= 500 },
    });
  }
  const doc = parseXml(envelopeXml);
  const keys = options.decryptionKeys ?? [options.identity];
  // Decrypt before verifying: the responder signed the plaintext (sign-then-encrypt).
  const decrypted = decryptAttachments(doc, attachments, keys);
  const verification = verifyEnvelope(doc, decrypted.attachments, {
    ...(options.trust ? { trust: options.trust } : {}),
    ...(options.senderCertificate ? { expectedCertificate: options.senderCertificate } : {}),
    at: clock.now(),
  });
  const parsed = parseEnvelope(doc);
  if (parsed.kind === 'error') {
    const first = parsed.errors[0]!;
    if (first.errorCode === 'EBMS:0006') return undefined;
    const code = isEbmsErrorCode(first.errorCode) ? first.errorCode : 'EBMS:0004';
    throw new QerdsError(
      qerdsCodeOf(code),
      `pull answered ${first.errorCode} ${first.shortDescription ?? ebmsErrors.get(code)!.shortDescription}${first.errorDetail ? `: ${first.errorDetail}` : ''}`,
      {
        details: {
          httpStatus: response.status,
          errors: parsed.errors,
          signalSigned: verification.valid,
          retryable: ebmsErrors.get(code)!.retryable,
        },
      },
    );
  }
  if (!verification.valid || !verification.signer) {
    throw new QerdsError(
      'AS4_EBMS_0101',
      `pulled message signature: ${verification.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.message)
        .join('; ')}`,
    );
  }
  if (parsed.kind !== 'user')
    throw new QerdsError('AS4_EBMS_0003', `a PullRequest was answered with a ${parsed.kind} signal`);
  const payloads = decompressPayloads(parsed.message, decrypted.attachments, maxBytes);
  const receipt = serializeXml(
    buildReceipt(doc, verification.references, options.identity, {
      clock,
      ...(options.idGenerator ? { idGenerator: options.idGenerator } : {}),
    }),
  );
  let receiptDelivered = false;
  try {
    const ack = await post(options.endpoint, SOAP12, Buffer.from(receipt, 'utf8'), timeoutMs, options.http);
    await ack.arrayBuffer();
    receiptDelivered = ack.ok;
  } catch {
    // Reception awareness on the other side resends the message; the caller drops the duplicate.
  }
  return {
    message: parsed.message,
    attachments: payloads,
    signer: verification.signer,
    receiptXml: receipt,
    receiptDelivered,
  };
}
