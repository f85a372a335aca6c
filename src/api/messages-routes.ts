import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  formatParticipantId,
  lineTextProblem,
  loaUri,
  parseParticipantId,
  QerdsError,
  type PayloadPart,
} from '../core/index.js';
import type { TrustStore } from '../pki/index.js';
import { checkHandover, handOver, submitMessage, type PipelineContext } from '../pipeline/index.js';
import type { EvidenceRecord, StoredMessage } from '../store/types.js';
import type { Principal } from './auth.js';
import { readUpload, type Upload } from './multipart-upload.js';
import { assuranceShortfall } from './assurance-policy.js';
import { identifySender, type IdentificationOptions } from './submission-identification.js';
import { sendProblem } from './problem.js';
import { readBlob } from './read-blob.js';
import { handedOverWhole, sendPart } from './response-body.js';
import { checkSenderSeal, type SenderSealKind, type SenderSealOutcome } from './sender-seal.js';

/** A value that goes into sealed XML (evidence) and into one-line headers (AS4 properties, REM mail). */
const lineText = (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    // Threat: a character XML 1.0 cannot carry makes a sealed evidence that does not parse; CR/LF in a
    // subject is folded by the mail layer, so C3 would see another subject than the one C2 sealed.
    const problem = lineTextProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const submissionMetadata = z.strictObject({
  /** `<scheme>:<value>` of the recipient (C4). */
  recipient: lineText(z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>')),
  subject: lineText(z.string().max(998)).optional(),
  /** The sender's own reference (its ERP's correlation id): returned with the message, filterable, never relayed. */
  reference: lineText(z.string().min(1).max(256)).optional(),
  /** The first part is XML carrying the sender's own XAdES e-seal: identify the sender by it (REQ3). */
  eSeal: z.boolean().optional(),
  /**
   * The sender sealed its content itself (forwarded use): `xades` in the first part (XML), or `cades`, a
   * detached DER signature in the last part over the first. C2 verifies it and relays the content unchanged.
   */
  senderSeal: z.enum(['xades', 'cades']).optional(),
});

/** REST API of the messages: submission (C1 → C2), status and evidence, and the recipient's inbox (C3 → C4). */
export function messagesRouter(
  ctx: PipelineContext,
  options: { maxPayloadBytes: number; identification?: IdentificationOptions },
): Router {
  const policy = options.identification?.policy ?? { minSubmission: 1, minHandover: 1 };
  const router = Router();

  router.post('/messages', async (req, res) => {
    // Read already by the Idempotency-Key check when the request carries one.
    const upload = req.upload ?? (await readUpload(req, ctx.store.blobs, options.maxPayloadBytes));
    // Until a message names the blobs, a refusal (or a failure) discards them: threat, a client filling the
    // disk with submissions it knows will be refused.
    let stored = false;
    try {
      await submit(req, res, upload, () => (stored = true));
    } finally {
      if (!stored) await upload.discard();
    }
  });

  async function submit(req: Request, res: Response, upload: Upload, recorded: () => void): Promise<void> {
    const principal = req.principal!;
    // The blobs go before the answer does: a client that sees the refusal sees nothing of it left.
    const refuse = async (detail: string) => {
      await upload.discard();
      sendProblem(res, 'BAD_REQUEST', detail);
    };
    const metadata = submissionMetadata.safeParse(parseJson(upload.fields.metadata));
    if (!metadata.success)
      return refuse(
        `metadata: ${metadata.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
      );
    if (upload.parts.length === 0) return refuse('at least one payload file is required');
    const badPart = partProblem(upload.parts);
    if (badPart) return refuse(badPart);
    const identified = await identifySender(
      ctx,
      principal,
      upload.parts,
      metadata.data.eSeal === true,
      policy.minSubmission,
      options.identification,
    );
    const seal =
      !identified.rejection && metadata.data.senderSeal
        ? await verifySenderSeal(ctx, metadata.data.senderSeal, upload.parts, options.identification?.trust)
        : undefined;
    const intake = seal && !seal.ok ? { ...identified, rejection: seal.reason } : identified;
    // The request's logger: the submission's lines carry the requestId beside the new messageId.
    const result = await submitMessage(
      { ...ctx, log: req.log ?? ctx.log },
      {
        sender: principal.participant,
        senderIdentification: intake.identification,
        recipient: parseParticipantId(metadata.data.recipient),
        subject: metadata.data.subject,
        reference: metadata.data.reference,
        parts: upload.parts,
        ...(intake.rejection ? { rejection: intake.rejection } : {}),
        ...(seal?.ok ? { acceptanceDetails: seal.summary } : {}),
      },
    );
    recorded();
    const body = {
      ...messageView(result.message),
      evidence: [evidenceLink(result.evidence.id, result.evidence.event)],
    };
    if (intake.rejection) {
      return sendProblem(
        res,
        intake.belowPolicy ? 'ASSURANCE_TOO_LOW' : 'SUBMISSION_REJECTED',
        intake.rejection.details,
        { reason: intake.rejection.code, message: body },
      );
    }
    if (result.rejection) {
      return sendProblem(res, 'SUBMISSION_REJECTED', result.rejection.details, {
        reason: result.rejection.code,
        message: body,
      });
    }
    if (!result.accepted) {
      return sendProblem(
        res,
        'SUBMISSION_REJECTED',
        `recipient ${metadata.data.recipient} cannot be reached`,
        { message: body },
      );
    }
    res.status(201).location(`/api/v1/messages/${result.message.id}`).json(body);
  }

  router.get('/messages/:id', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    res.json(messageView(message));
  });

  router.get('/messages/:id/evidence', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    const chain = await ctx.store.listEvidence(message.id);
    res.json(chain.map(evidenceView));
  });

  /**
   * The signed receipts peer APs answered this message's relay with, as received: the bytes whose SHA-256 C2's own
   * RelayAcceptance names when the peer returns no evidence of its own (a Peppol AP). Empty for other messages.
   */
  router.get('/messages/:id/receipts', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    const receipts = await ctx.store.listPeerReceipts(message.id);
    res.json(
      receipts.map((r) => ({
        sha256: r.sha256,
        receivedAt: r.receivedAt.toISOString(),
        href: `/api/v1/messages/${encodeURIComponent(message.id)}/receipts/${r.sha256}`,
      })),
    );
  });

  router.get('/messages/:id/receipts/:sha256', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    const receipt = (await ctx.store.listPeerReceipts(message.id)).find(
      (r) => r.sha256 === String(req.params.sha256).toLowerCase(),
    );
    if (!receipt)
      throw new QerdsError('NOT_FOUND', `no receipt ${String(req.params.sha256)} of message ${message.id}`);
    // Byte for byte as received: its SHA-256 is the one listed (and bound in the RelayAcceptance).
    res
      .type('application/xml')
      .set('Digest', `sha-256=${Buffer.from(receipt.sha256, 'hex').toString('base64')}`)
      .send(Buffer.from(receipt.xml, 'utf8'));
  });

  router.get('/evidence/:id', async (req, res) => {
    const evidence = await ctx.store.getEvidence(String(req.params.id));
    // One answer for missing and not yours: the text must not tell that the evidence (or its message) exists.
    const mine = evidence && isParty(await ctx.store.getMessage(evidence.messageId), req.principal!);
    if (!evidence || !mine) throw new QerdsError('NOT_FOUND', `no evidence ${String(req.params.id)}`);
    res.type('application/xml').send(evidence.xml);
  });

  /** Newest first, `limit` (1–500, default 100) at a time; a `Link: <…?after=…>; rel="next"` header names the next page. */
  router.get('/inbox', async (req, res) => {
    const me = formatParticipantId(req.principal!.participant);
    const limit = inboxLimit(req.query.limit);
    const after = typeof req.query.after === 'string' && req.query.after !== '' ? req.query.after : undefined;
    if (req.query.after !== undefined && after === undefined)
      throw new QerdsError('BAD_REQUEST', 'after must be the cursor of a previous page');
    const page = await ctx.store.listInbox({
      recipient: me,
      states: ['received', 'awaiting-acceptance', 'accepted', 'consigned', 'delivered'],
      limit,
      ...(after === undefined ? {} : { after }),
    });
    if (page.next !== undefined)
      res.set(
        'Link',
        `<${req.baseUrl}${req.path}?limit=${limit}&after=${encodeURIComponent(page.next)}>; rel="next"`,
      );
    res.json(page.messages.map(messageView));
  });

  /** One inbox entry (the pickup URL of a notice): the message and the href of each part to download. */
  router.get('/inbox/:id', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    if (
      message.role !== 'recipient-ap' ||
      formatParticipantId(message.recipient) !== formatParticipantId(req.principal!.participant)
    ) {
      throw new QerdsError('NOT_FOUND', `no message ${message.id}`); // as messageFor: sent, not received, reads as missing
    }
    const href = (partId: string) =>
      `/api/v1/inbox/${encodeURIComponent(message.id)}/parts/${encodeURIComponent(partId)}`;
    res.json({ ...messageView(message), parts: message.parts.map((p) => ({ ...p, href: href(p.partId) })) });
  });

  /** Handover: the content goes out only to the authenticated recipient (REQ4), and leaves evidence. */
  router.get('/inbox/:id/parts/:partId', async (req, res) => {
    const principal = req.principal!;
    // REQ4: below the policy's level nothing is handed over and no evidence is issued: the message still
    // waits for its recipient, who may come back with a stronger credential (see assurance-policy.ts).
    const shortfall = assuranceShortfall(principal.identification, policy.minHandover);
    if (shortfall) {
      req.log?.warn({ messageId: req.params.id, shortfall }, 'handover refused: assurance below policy');
      return sendProblem(res, 'ASSURANCE_TOO_LOW', shortfall, { required: loaUri(policy.minHandover) });
    }
    // Whose and whether open first, one answer for missing and not yours (ids and part ids cannot be probed).
    const stored = await checkHandover(ctx, String(req.params.id), principal.participant);
    const part = stored.parts.find((p) => p.partId === req.params.partId);
    if (!part || !(await ctx.store.blobs.has(part.sha256)))
      throw new QerdsError('NOT_FOUND', `no message ${stored.id}`);
    res
      .type(part.contentType)
      .set('Content-Length', String(part.size))
      .set('Digest', `sha-256=${Buffer.from(part.sha256, 'hex').toString('base64')}`);
    if (part.filename) res.attachment(part.filename);
    // Express routes HEAD here too: headers only, so nothing was handed over and no evidence may claim it.
    if (req.method !== 'GET') return void res.end();
    const delivery = await sendPart(res, ctx.store.blobs.get(part.sha256), part.size);
    // ContentHandover is proof that the content went out: sealed only after the whole body was written.
    if (!handedOverWhole(req.log, delivery, stored.id, part.size)) return;
    try {
      await handOver(ctx, stored.id, principal.participant, principal.identification);
    } catch (error) {
      // The body is sent; the next download seals the evidence (the message stays open until one is recorded).
      req.log?.error({ err: error, messageId: stored.id }, 'content sent, ContentHandover not recorded');
    }
  });

  return router;
}

/** A part's content type or file name that sealed XML or a MIME header could not carry (see lineText). */
function partProblem(parts: readonly PayloadPart[]): string | undefined {
  for (const part of parts) {
    const type = lineTextProblem(part.contentType);
    if (type) return `${part.partId} content type: ${type}`;
    const name = part.filename === undefined ? undefined : lineTextProblem(part.filename);
    if (name) return `${part.partId} filename: ${name}`;
  }
  return undefined;
}

/** `?limit=` of the inbox: an integer 1–500; absent: 100. */
function inboxLimit(value: unknown): number {
  if (value === undefined) return 100;
  const limit = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 500))
    throw new QerdsError('BAD_REQUEST', 'limit must be an integer from 1 to 500');
  return limit;
}

/** The sender's own seal checked at intake (forwarded use); without a trust store every such seal is refused. */
async function verifySenderSeal(
  ctx: PipelineContext,
  kind: SenderSealKind,
  parts: readonly PayloadPart[],
  trust: TrustStore | undefined,
): Promise<SenderSealOutcome> {
  if (!trust)
    return {
      ok: false,
      reason: { code: 'RA05', details: 'this access point has no trust store to verify sender seals' },
    };
  return checkSenderSeal(kind, parts, (part) => readBlob(ctx, part.sha256), { trust, now: ctx.clock.now() });
}

/** The message if the principal is its sender or recipient; otherwise NOT_FOUND (ids cannot be probed). */
async function messageFor(ctx: PipelineContext, id: string, principal: Principal): Promise<StoredMessage> {
  const message = await ctx.store.getMessage(id);
  if (!message || !isParty(message, principal)) throw new QerdsError('NOT_FOUND', `no message ${id}`);
  return message;
}

function isParty(message: StoredMessage | undefined, principal: Principal): message is StoredMessage {
  const me = formatParticipantId(principal.participant);
  return (
    !!message && (formatParticipantId(message.sender) === me || formatParticipantId(message.recipient) === me)
  );
}

export function messageView(m: StoredMessage) {
  return {
    id: m.id,
    ebmsMessageId: m.ebmsMessageId,
    role: m.role,
    state: m.state,
    sender: formatParticipantId(m.sender),
    recipient: formatParticipantId(m.recipient),
    subject: m.subject,
    reference: m.reference,
    parts: m.parts,
    submittedAt: m.submittedAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    attempts: m.attempts,
    lastError: m.lastError,
  };
}

function evidenceView(e: EvidenceRecord) {
  return {
    ...evidenceLink(e.id, e.event),
    sequence: e.sequence,
    eventTime: e.eventTime.toISOString(),
    issuedBy: e.issuedBy,
  };
}

function evidenceLink(id: string, event: string) {
  return { id, event, href: `/api/v1/evidence/${id}` };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new QerdsError('BAD_REQUEST', 'metadata is not valid JSON');
  }
}
