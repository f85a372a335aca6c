import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Request, RequestHandler, Response } from 'express';
import { isQerdsError, QerdsError, systemClock, uuidIdGenerator } from '../../core/index.js';
import { decryptAttachmentsStreaming } from '../security/attachment-encryption.js';
import { decompressPayloadsStreaming } from '../message/compression.js';
import { assertPModeSecurity, matchPMode, type PMode } from '../model/pmode.js';
import { createReceiptMemory } from './receipt-memory.js';
import { ebmsCodeOf, type EbmsErrorCode } from '../model/ebms-errors.js';
import { parseEnvelope, peekMessageId } from '../message/envelope-parse.js';
import { contentIdFromCid } from '../message/multipart.js';
import { decodeMultipartStreaming } from '../message/multipart-stream.js';
import { scratchDirectory } from '../message/streamed-body.js';
import { parseContentType } from '../message/mime-content-type.js';
import { SOAP11_MEDIA_TYPE, SOAP12_MEDIA_TYPE } from '../model/namespaces.js';
import { buildErrorSignal, receiptXml } from '../message/signals.js';
import type {
  As4HandlerOptions,
  Attachment,
  EnvelopeLimits,
  ReceiptInput,
  SoapVersion,
  UserMessage,
} from '../model/types.js';
import { verifyEnvelope } from '../security/ws-security-verify.js';
import { assertNoProcessingInstructions, parseXml } from '../message/xml-util.js';

const DEFAULT_MAX_MESSAGE_BYTES = 104_857_600;
/** Duplicate detection window without P-Modes: the P-Mode default (7 days). */
const DEFAULT_DUPLICATE_WINDOW_SECONDS = 604_800;

/** The defaults of `As4HandlerOptions.envelopeLimits` (see EnvelopeLimits). */
export const DEFAULT_ENVELOPE_LIMITS: Required<EnvelopeLimits> = Object.freeze({
  maxBytes: 1_048_576,
  maxDepth: 64,
  maxElements: 10_000,
  maxAttributes: 50_000,
});
const MAX_ATTRIBUTES_PER_ENVELOPE_ELEMENT = 64;

const tooLarge = (limit: number, what = 'message') =>
  new QerdsError('AS4_MESSAGE_TOO_LARGE', `${what} exceeds ${limit} bytes`);

/**
 * A body of a declared length up to this many bytes is read whole from 'data' events, not by the request's async
 * iterator: for the usual few KiB of an AS4 message, the iterator's set-up (end-of-stream listeners, a promise per
 * chunk) cost more CPU than reading the body. Larger ones stream (spooled to files as they arrive).
 */
const SMALL_BODY_BYTES = 65_536;

/**
 * The whole body of a request whose declared length is small, `limit` still counted as it arrives. A request that
 * ends early (the peer went away) fails, as the iterator would.
 */
function smallBody(req: Request, limit: number, what?: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', settle);
      req.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) settle(tooLarge(limit, what));
      else chunks.push(chunk);
    };
    const onEnd = (): void => settle();
    const onClose = (): void => settle(new Error('the request closed before its end'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', settle);
    req.once('close', onClose);
  });
}

/** The raw request body as it arrives, refusing more than `limit` bytes while it arrives (not after). */
async function* requestBody(req: Request, limit: number, what?: string): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(req.body)) {
    if (req.body.length > limit) throw tooLarge(limit, what);
    yield req.body;
    return;
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw tooLarge(limit, what);
  // Only a body still to be read: one that something before us consumed would never emit its 'end' again.
  if (
    declared > 0 &&
    declared <= SMALL_BODY_BYTES &&
    req.headers['transfer-encoding'] === undefined &&
    req.readable
  ) {
    yield await smallBody(req, limit, what);
    return;
  }
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit, what);
    yield chunk;
  }
}

async function readBody(req: Request, limit: number, what?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of requestBody(req, limit, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The client certificate of a TLS connection, only when the handshake verified it (against the server's client CA). */
function verifiedTlsClientCertificate(req: Request): X509Certificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || !socket.getPeerX509Certificate) return undefined;
  return socket.getPeerX509Certificate();
}

function soapMediaType(v: SoapVersion): string {
  return `${v === '1.2' ? SOAP12_MEDIA_TYPE : SOAP11_MEDIA_TYPE}; charset=UTF-8`;
}

/**
 * Answers with a signal as it is, in one write: not express's `res.send`, which would hash the body for an ETag
 * (nothing caches an AS4 answer) and rewrite the charset.
 */
function answer(res: Response, status: number, soapVersion: SoapVersion, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': soapMediaType(soapVersion), 'Content-Length': body.length });
  res.end(body);
}

/** The receipt built and signed in this thread (As4HandlerOptions.receiptBuilder's default). */
async function buildReceiptHere(input: ReceiptInput): Promise<string> {
  return receiptXml(input.doc, input.references, input.identity, input.options);
}

/** AS4 with SwA: every PartInfo names a MIME part by cid:, and every MIME part is named by one (EBMS:0007). */
function checkPayloadConsistency(message: UserMessage, attachments: readonly Attachment[]): void {
  const named = new Set<string>();
  for (const p of message.payloads) {
    const cid = contentIdFromCid(p.href);
    if (cid === undefined)
      throw new QerdsError(
        'AS4_EBMS_0007',
        `PartInfo href "${p.href}" is not a cid: reference (payloads travel as MIME parts)`,
      );
    if (!attachments.some((a) => a.contentId === cid))
      throw new QerdsError('AS4_EBMS_0011', `no MIME part for ${p.href}`);
    named.add(cid);
  }
  for (const a of attachments)
    if (!named.has(a.contentId))
      throw new QerdsError('AS4_EBMS_0007', `MIME part ${a.contentId} is not described by a PartInfo`);
}

/**
 * The AS4 receiving endpoint (express handler for POST /as4). A pushed UserMessage is decoded, its
 * attachments decrypted (EBMS:0102), its signature verified over the plaintext (missing → EBMS:0103,
 * invalid or untrusted signer → EBMS:0101), its header parsed, matched to a push P-Mode (EBMS:0010) whose
 * security it must meet (EBMS:0103), its payloads checked against PayloadInfo (EBMS:0007/0011) and inflated
 * (EBMS:0303); only then `onUserMessage` sees it, and a signed NRR Receipt answers on the same HTTP
 * connection (AS4 synchronous "response" pattern). A signed PullRequest or Receipt is EBMS:0008 (one-way/push
 * only: nothing waits here to be pulled, and receipts come back on the responses of our pushes). Failures are answered with a
 * signed ebMS Error signal and a SOAP Fault, HTTP 500 (the convention of AS4 products).
 * Duplicates within the P-Mode's detection window get the original receipt and never reach `onUserMessage`
 * (`receiptMemory`); later ones are left to `onUserMessage` to drop (the store), and get a new receipt.
 */
export function createAs4Handler(options: As4HandlerOptions): RequestHandler {
  const limit = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const clock = options.clock ?? systemClock;
  const idGenerator = options.idGenerator ?? uuidIdGenerator;
  const decryptionKeys = options.decryptionKeys ?? [options.identity];
  const receipts = options.receiptMemory ?? createReceiptMemory();
  const envelope = Object.freeze({ ...DEFAULT_ENVELOPE_LIMITS, ...options.envelopeLimits });
  const xmlLimits = {
    maxChars: envelope.maxBytes,
    maxDepth: envelope.maxDepth,
    maxElements: envelope.maxElements,
    maxAttributes: envelope.maxAttributes,
    maxAttributesPerElement: MAX_ATTRIBUTES_PER_ENVELOPE_ELEMENT,
  };

  const sendError = (
    res: Response,
    code: EbmsErrorCode,
    detail: string,
    refTo: string | undefined,
    soapVersion: SoapVersion,
    httpStatus = 500,
  ) => {
    const xml = buildErrorSignal(refTo, code, detail, options.identity, { soapVersion, clock, idGenerator });
    answer(res, httpStatus, soapVersion, xml);
  };

  return async (req, res) => {
    let soapVersion: SoapVersion = '1.2';
    let doc: Document | undefined;
    // Large attachments are spooled to files here (as they arrive, then decrypted and inflated file to file).
    const scratch = scratchDirectory(options.spoolDir);
    try {
      const contentType = req.headers['content-type'] ?? '';
      let envelopeXml: string;
      let attachments: Attachment[] = [];
      const media = parseContentType(contentType).mediaType;
      if (media === 'multipart/related') {
        const decoded = await decodeMultipartStreaming(contentType, requestBody(req, limit), {
          maxBytes: limit,
          spoolDir: scratch.dir,
          // The root part is held in memory and parsed at once: bounded, while it arrives, far below the streamed
          // attachments (413, EBMS:0004 as for a SOAP body without MIME).
          maxRootBytes: envelope.maxBytes,
          rootTooLarge: (limit) => tooLarge(limit, 'SOAP envelope'),
          ...(options.spoolThresholdBytes === undefined
            ? {}
            : { spoolThresholdBytes: options.spoolThresholdBytes }),
        });
        envelopeXml = decoded.envelope;
        attachments = decoded.attachments;
        soapVersion = decoded.soapVersion;
      } else if (media === SOAP12_MEDIA_TYPE || media === SOAP11_MEDIA_TYPE) {
        soapVersion = media === SOAP12_MEDIA_TYPE ? '1.2' : '1.1';
        // Unauthenticated peers: a SOAP body without MIME is all envelope, read and parsed in memory, so it gets
        // the envelope's limit, not the streamed attachments' (a 50 MB envelope blocked the event loop for seconds).
        envelopeXml = new TextDecoder('utf-8', { fatal: true }).decode(
          await readBody(req, envelope.maxBytes, 'SOAP envelope'),
        );
      } else {
        throw new QerdsError('AS4_EBMS_0007', `unsupported Content-Type ${media}`);
      }
      doc = parseXml(envelopeXml, 'AS4_EBMS_0009', 'SOAP envelope', xmlLimits);
      assertNoProcessingInstructions(doc);

      // Decrypt first: the signature covers the plaintext (sign-then-encrypt, eDelivery AS4). 0102 on failure.
      const decrypted = await decryptAttachmentsStreaming(doc, attachments, decryptionKeys, scratch.dir);
      const verification = verifyEnvelope(doc, decrypted.attachments, {
        trust: options.trust,
        at: clock.now(),
        tlsEkuSigners: options.tlsEkuSigners === true,
      });
      if (!verification.valid || !verification.signer) {
        const errors = verification.findings.filter((f) => f.severity === 'error');
        // Unsigned where the policy requires a signature → PolicyNoncompliance; a bad signature → FailedAuthentication.
        const code: EbmsErrorCode = errors.some((f) => f.code === 'AS4_SIGNATURE_MISSING')
          ? 'EBMS:0103'
          : 'EBMS:0101';
        sendError(res, code, errors.map((f) => f.message).join('; '), peekMessageId(doc), soapVersion);
        return;
      }
      const parsed = parseEnvelope(doc);
      soapVersion = parsed.soapVersion;
      // One-way/push only: no outbox to pull from, and receipts come back on the response of our own pushes.
      if (parsed.kind === 'pull')
        throw new QerdsError(
          'AS4_EBMS_0008',
          'PullRequest is not supported by this endpoint (one-way/push only)',
        );
      if (parsed.kind === 'receipt') throw new QerdsError('AS4_EBMS_0008', 'this endpoint takes no receipts');
      if (parsed.kind !== 'user')
        throw new QerdsError('AS4_EBMS_0010', `unexpected ${parsed.kind} signal pushed to this endpoint`);
      let pmode: PMode | undefined;
      if (options.pmodes) {
        try {
          pmode = matchPMode(options.pmodes, parsed.message);
        } catch (error) {
          throw options.noPModeRefusal?.(parsed.message) ?? error;
        }
        assertPModeSecurity(pmode, {
          signatureAlgorithm: verification.signatureAlgorithm,
          keyProtection: decrypted.keyProtection,
          encrypted: decrypted.encrypted,
          attachments,
        });
      }
      // Duplicate detection (after authentication: only a verified sender's resend gets the stored receipt).
      // Keyed by MessageId and the signed digests: a byte-identical resend gets the very receipt it missed; a
      // sender that rebuilt the message (new signature, same MessageId) needs a receipt of *its* digests (NRR),
      // so it goes on to reception, which drops the duplicate by MessageId and is answered with a fresh receipt.
      const copyKey = `${parsed.message.messageId}\n${verification.references.map((r) => `${r.uri} ${r.digestValue}`).join('\n')}`;
      const remembered = receipts.recall(copyKey, clock.now());
      if (remembered !== undefined) {
        answer(res, 200, soapVersion, remembered);
        return;
      }
      checkPayloadConsistency(parsed.message, decrypted.attachments);
      // Inflate only after the signature over the compressed octets verified (AS4 §3.1).
      const payloads = await decompressPayloadsStreaming(
        parsed.message,
        decrypted.attachments,
        scratch.dir,
        options.maxDecompressedBytes,
      );
      try {
        const tlsClientCertificate = verifiedTlsClientCertificate(req);
        await options.onUserMessage({
          message: parsed.message,
          attachments: payloads,
          signer: verification.signer,
          envelopeXml,
          ...(tlsClientCertificate ? { tlsClientCertificate } : {}),
        });
      } catch (error) {
        const code = isQerdsError(error) ? ebmsCodeOf(error.code) : undefined;
        sendError(
          res,
          code ?? 'EBMS:0004',
          code ? (error as Error).message : 'the message could not be processed',
          parsed.message.messageId,
          soapVersion,
        );
        return;
      }
      // PMode[1].Security.SendReceipt.NonRepudiation false: a reception-awareness receipt (copy of the UserMessage).
      const nrr = pmode?.receipt.nonRepudiation ?? true;
      const receipt = await (options.receiptBuilder ?? buildReceiptHere)({
        envelopeXml,
        xmlLimits,
        doc,
        references: nrr ? verification.references : [],
        identity: options.receiptIdentity?.(pmode, verification.signer) ?? options.identity,
        options: { soapVersion, clock, idGenerator },
      });
      const windowSeconds =
        pmode?.reliability.duplicateDetectionWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS;
      receipts.remember(copyKey, receipt, new Date(clock.now().getTime() + windowSeconds * 1000));
      answer(res, 200, soapVersion, receipt);
    } catch (error) {
      if (res.headersSent) return;
      if (isQerdsError(error, 'AS4_MESSAGE_TOO_LARGE')) {
        res.setHeader('Connection', 'close');
        sendError(res, 'EBMS:0004', error.message, undefined, soapVersion, 413);
        req.resume();
        return;
      }
      const code = isQerdsError(error) ? ebmsCodeOf(error.code) : undefined;
      try {
        sendError(
          res,
          code ?? 'EBMS:0004',
          code ? (error as Error).message : 'internal error',
          peekMessageId(doc),
          soapVersion,
        );
      } catch {
        res.status(500).end();
      }
    } finally {
      await scratch.remove();
    }
  };
}
