import type { Request, RequestHandler, Response } from 'express';
import { isQerdsError, QerdsError, systemClock, uuidIdGenerator } from '../core/index.js';
import { ebmsCodeOf, type EbmsErrorCode } from './ebms-errors.js';
import { parseEnvelope, peekMessageId } from './envelope-parse.js';
import { contentIdFromCid, decodeMultipart } from './multipart.js';
import { parseContentType } from './mime-content-type.js';
import { SOAP11_MEDIA_TYPE, SOAP12_MEDIA_TYPE } from './namespaces.js';
import { buildErrorSignal, buildReceipt } from './signals.js';
import type { As4HandlerOptions, Attachment, SoapVersion, UserMessage } from './types.js';
import { verifyEnvelope } from './ws-security-verify.js';
import { assertNoProcessingInstructions, parseXml, serializeXml } from './xml-util.js';

const DEFAULT_MAX_MESSAGE_BYTES = 104_857_600;

/** Read the raw request body, refusing more than `limit` bytes while it arrives (not after). */
async function readBody(req: Request, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) {
    if (req.body.length > limit) throw new QerdsError('AS4_MESSAGE_TOO_LARGE', `message exceeds ${limit} bytes`);
    return req.body;
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new QerdsError('AS4_MESSAGE_TOO_LARGE', `message exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new QerdsError('AS4_MESSAGE_TOO_LARGE', `message exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function soapMediaType(v: SoapVersion): string {
  return `${v === '1.2' ? SOAP12_MEDIA_TYPE : SOAP11_MEDIA_TYPE}; charset=UTF-8`;
}

/** AS4 with SwA: every PartInfo names a MIME part by cid:, and every MIME part is named by one (EBMS:0007). */
function checkPayloadConsistency(message: UserMessage, attachments: readonly Attachment[]): void {
  const named = new Set<string>();
  for (const p of message.payloads) {
    const cid = contentIdFromCid(p.href);
    if (cid === undefined) throw new QerdsError('AS4_EBMS_0007', `PartInfo href "${p.href}" is not a cid: reference (payloads travel as MIME parts)`);
    if (!attachments.some((a) => a.contentId === cid)) throw new QerdsError('AS4_EBMS_0011', `no MIME part for ${p.href}`);
    named.add(cid);
  }
  for (const a of attachments) if (!named.has(a.contentId)) throw new QerdsError('AS4_EBMS_0007', `MIME part ${a.contentId} is not described by a PartInfo`);
}

/**
 * The AS4 receiving endpoint (express handler for POST /as4): decode, verify the signature, hand the
 * message to `onUserMessage`, answer with a signed NRR Receipt on the same HTTP connection (AS4
 * synchronous "response" pattern). Failures are answered with a signed ebMS Error signal and a SOAP Fault,
 * HTTP 500 (the convention of AS4 products; see the report for SOAP 1.2's 400 for Sender faults).
 * Duplicate elimination is left to `onUserMessage`: answering a duplicate with the same kind of receipt
 * is what AS4 reception awareness expects.
 */
export function createAs4Handler(options: As4HandlerOptions): RequestHandler {
  const limit = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const clock = options.clock ?? systemClock;
  const idGenerator = options.idGenerator ?? uuidIdGenerator;

  const sendError = (res: Response, code: EbmsErrorCode, detail: string, refTo: string | undefined, soapVersion: SoapVersion, httpStatus = 500) => {
    const doc = buildErrorSignal(refTo, code, detail, options.identity, { soapVersion, clock, idGenerator });
    res.status(httpStatus).type(soapMediaType(soapVersion)).send(serializeXml(doc));
  };

  return async (req, res) => {
    let soapVersion: SoapVersion = '1.2';
    let doc: Document | undefined;
    try {
      const body = await readBody(req, limit);
      const contentType = req.headers['content-type'] ?? '';
      let envelopeXml: string;
      let attachments: Attachment[] = [];
      const media = parseContentType(contentType).mediaType;
      if (media === 'multipart/related') {
        const decoded = decodeMultipart(contentType, body, { maxBytes: limit });
        envelopeXml = decoded.envelope;
        attachments = decoded.attachments;
        soapVersion = decoded.soapVersion;
      } else if (media === SOAP12_MEDIA_TYPE || media === SOAP11_MEDIA_TYPE) {
        soapVersion = media === SOAP12_MEDIA_TYPE ? '1.2' : '1.1';
        envelopeXml = new TextDecoder('utf-8', { fatal: true }).decode(body);
      } else {
        throw new QerdsError('AS4_EBMS_0007', `unsupported Content-Type ${media}`);
      }
      doc = parseXml(envelopeXml);
      assertNoProcessingInstructions(doc);

      const verification = verifyEnvelope(doc, attachments, { trust: options.trust, at: clock.now() });
      if (!verification.valid || !verification.signer) {
        const errors = verification.findings.filter((f) => f.severity === 'error');
        // Unsigned where the policy requires a signature → PolicyNoncompliance; a bad signature → FailedAuthentication.
        const code: EbmsErrorCode = errors.some((f) => f.code === 'AS4_SIGNATURE_MISSING') ? 'EBMS:0103' : 'EBMS:0101';
        sendError(res, code, errors.map((f) => f.message).join('; '), peekMessageId(doc), soapVersion);
        return;
      }
      const parsed = parseEnvelope(doc);
      soapVersion = parsed.soapVersion;
      if (parsed.kind !== 'user') throw new QerdsError('AS4_EBMS_0010', `unexpected ${parsed.kind} signal pushed to this endpoint`);
      checkPayloadConsistency(parsed.message, attachments);
      try {
        await options.onUserMessage({ message: parsed.message, attachments, signer: verification.signer, envelopeXml });
      } catch (error) {
        const code = isQerdsError(error) ? ebmsCodeOf(error.code) : undefined;
        sendError(res, code ?? 'EBMS:0004', code ? (error as Error).message : 'the message could not be processed', parsed.message.messageId, soapVersion);
        return;
      }
      const receipt = buildReceipt(doc, verification.references, options.identity, { soapVersion, clock, idGenerator });
      res.status(200).type(soapMediaType(soapVersion)).send(serializeXml(receipt));
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
        sendError(res, code ?? 'EBMS:0004', code ? (error as Error).message : 'internal error', peekMessageId(doc), soapVersion);
      } catch {
        res.status(500).end();
      }
    }
  };
}
