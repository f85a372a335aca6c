import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import { formatParticipantId, loaUri, parseParticipantId, QerdsError } from '../core/index.js';
import { handOver, submitMessage, type PipelineContext } from '../pipeline/index.js';
import type { EvidenceRecord, StoredMessage } from '../store/types.js';
import type { Principal } from './auth.js';
import { readUpload } from './multipart-upload.js';
import { assuranceShortfall } from './assurance-policy.js';
import { identifySender, type IdentificationOptions } from './submission-identification.js';
import { sendProblem } from './problem.js';

const submissionMetadata = z.object({
  /** `<scheme>:<value>` of the recipient (C4). */
  recipient: z.string().regex(/^[^:\s]+:\S+$/, 'must be <scheme>:<value>'),
  subject: z.string().max(998).optional(),
  /** The first part is XML carrying the sender's own XAdES e-seal: identify the sender by it (REQ3). */
  eSeal: z.boolean().optional(),
});

/** REST API of the messages: submission (C1 → C2), status and evidence, and the recipient's inbox (C3 → C4). */
export function messagesRouter(ctx: PipelineContext, options: { maxPayloadBytes: number; identification?: IdentificationOptions }): Router {
  const policy = options.identification?.policy ?? { minSubmission: 1, minHandover: 1 };
  const router = Router();

  router.post('/messages', async (req, res) => {
    const principal = req.principal!;
    const upload = await readUpload(req, ctx.store.blobs, options.maxPayloadBytes);
    const metadata = submissionMetadata.safeParse(parseJson(upload.fields.metadata));
    if (!metadata.success) {
      return sendProblem(res, 400, 'BAD_REQUEST', `metadata: ${metadata.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
    }
    if (upload.parts.length === 0) return sendProblem(res, 400, 'BAD_REQUEST', 'at least one payload file is required');
    const intake = await identifySender(ctx, principal, upload.parts, metadata.data.eSeal === true, policy.minSubmission, options.identification);
    // The request's logger: the submission's lines carry the requestId beside the new messageId.
    const result = await submitMessage({ ...ctx, log: req.log ?? ctx.log }, {
      sender: principal.participant,
      senderIdentification: intake.identification,
      recipient: parseParticipantId(metadata.data.recipient),
      subject: metadata.data.subject,
      parts: upload.parts,
      ...(intake.rejection ? { rejection: intake.rejection } : {}),
    });
    const body = { ...messageView(result.message), evidence: [evidenceLink(result.evidence.id, result.evidence.event)] };
    if (intake.rejection) {
      const status = intake.belowPolicy ? 403 : 422;
      return sendProblem(res, status, intake.belowPolicy ? 'ASSURANCE_TOO_LOW' : 'SUBMISSION_REJECTED', intake.rejection.details, { reason: intake.rejection.code, message: body });
    }
    if (!result.accepted) {
      return sendProblem(res, 422, 'SUBMISSION_REJECTED', `recipient ${metadata.data.recipient} cannot be reached`, { message: body });
    }
    res.status(201).location(`/api/v1/messages/${result.message.id}`).json(body);
  });

  router.get('/messages/:id', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    res.json(messageView(message));
  });

  router.get('/messages/:id/evidence', async (req, res) => {
    const message = await messageFor(ctx, String(req.params.id), req.principal!);
    const chain = await ctx.store.listEvidence(message.id);
    res.json(chain.map(evidenceView));
  });

  router.get('/evidence/:id', async (req, res) => {
    const evidence = await ctx.store.getEvidence(String(req.params.id));
    if (!evidence) throw new QerdsError('NOT_FOUND', 'no such evidence');
    await messageFor(ctx, evidence.messageId, req.principal!);
    res.type('application/xml').send(evidence.xml);
  });

  router.get('/inbox', async (req, res) => {
    const me = formatParticipantId(req.principal!.participant);
    const messages = (await ctx.store.listMessages({ limit: 500 })).filter(
      (m) => m.role === 'recipient-ap' && formatParticipantId(m.recipient) === me && ['received', 'consigned', 'delivered'].includes(m.state),
    );
    res.json(messages.map(messageView));
  });

  /** Handover: the content goes out only to the authenticated recipient (REQ4), and leaves evidence. */
  router.get('/inbox/:id/parts/:partId', async (req, res) => {
    const principal = req.principal!;
    // REQ4: below the policy's level nothing is handed over and no evidence is issued: the message still
    // waits for its recipient, who may come back with a stronger credential (see assurance-policy.ts).
    const shortfall = assuranceShortfall(principal.identification, policy.minHandover);
    if (shortfall) {
      req.log?.warn({ messageId: req.params.id, shortfall }, 'handover refused: assurance below policy');
      return sendProblem(res, 403, 'ASSURANCE_TOO_LOW', shortfall, { required: loaUri(policy.minHandover) });
    }
    // The part must exist before anything is handed over: ContentHandover is proof that content went out.
    const stored = await ctx.store.getMessage(String(req.params.id));
    const part = stored?.parts.find((p) => p.partId === req.params.partId);
    if (!part || !(await ctx.store.blobs.has(part.sha256))) throw new QerdsError('NOT_FOUND', 'no such part');
    await handOver(ctx, String(req.params.id), principal.participant, principal.identification);
    res.type(part.contentType).set('Content-Length', String(part.size)).set('Digest', `sha-256=${Buffer.from(part.sha256, 'hex').toString('base64')}`);
    if (part.filename) res.attachment(part.filename);
    // pipeline() handles a read error (the response is destroyed) instead of leaving it unhandled.
    await pipeline(ctx.store.blobs.get(part.sha256), res);
  });

  return router;
}

/** The message if the principal is its sender or recipient; otherwise NOT_FOUND (ids cannot be probed). */
async function messageFor(ctx: PipelineContext, id: string, principal: Principal): Promise<StoredMessage> {
  const message = await ctx.store.getMessage(id);
  const me = formatParticipantId(principal.participant);
  const party = message && (formatParticipantId(message.sender) === me || formatParticipantId(message.recipient) === me);
  if (!message || !party) throw new QerdsError('NOT_FOUND', `no message ${id}`);
  return message;
}

function messageView(m: StoredMessage) {
  return {
    id: m.id,
    ebmsMessageId: m.ebmsMessageId,
    role: m.role,
    state: m.state,
    sender: formatParticipantId(m.sender),
    recipient: formatParticipantId(m.recipient),
    subject: m.subject,
    parts: m.parts,
    submittedAt: m.submittedAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    attempts: m.attempts,
    lastError: m.lastError,
  };
}

function evidenceView(e: EvidenceRecord) {
  return { ...evidenceLink(e.id, e.event), sequence: e.sequence, eventTime: e.eventTime.toISOString(), issuedBy: e.issuedBy };
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
