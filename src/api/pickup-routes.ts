import { randomBytes } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { formatParticipantId, loaUri, type AssuranceLevel } from '../core/index.js';
import { checkHandover, handOver, type PickupLinks, type PipelineContext } from '../pipeline/index.js';
import type { StoredMessage } from '../store/types.js';
import type { AccountRegistry } from './accounts.js';
import { createPickupGate } from './pickup-gate.js';
import { pickupPageRouter } from './pickup-page.js';
import { sendProblem } from './problem.js';
import { handedOverWhole, ResponseBody, sendPart, type BodyDelivery } from './response-body.js';

export interface PickupRouterOptions {
  readonly links: PickupLinks;
  readonly accounts: AccountRegistry;
  /** Minimum overall assurance of a handover (policy.minHandoverAssurance). */
  readonly minHandover: AssuranceLevel;
  /** Wrong second factors tolerated per link before it is refused for good. @defaultValue 5 */
  readonly maxAttempts?: number;
  /** Signs the page's session and form cookies; share it between the AP's API processes. @defaultValue a random key per process */
  readonly sessionSecret?: string;
}

/**
 * People pick up content (REQ4) at `/pickup/<token>`, the link (made by `PickupLinks.buildPickupLink`, sent
 * in the notification) that names the message and the recipient; the second factor is the recipient
 * account's `totp` or `password` credential. Two faces share one second-factor check (pickup-gate.ts, so
 * wrong factors count once for both):
 * - for programs, `POST /pickup/<token>` with `{"totp": "123456"}` or `{"password": "…"}`: on success the link
 *   is used up (stored), ContentHandover records the method and level, and the response is the content: the
 *   part itself when there is one, `multipart/mixed` otherwise. Every refusal is a problem+json (401 link or
 *   factor not valid, 403 link used, locked or below policy, 429 too many wrong factors from the client) and
 *   hands nothing over;
 * - for people, `GET /pickup/<token>` is a page in English or Japanese (pickup-page.ts).
 */
export function pickupRouter(ctx: PipelineContext, options: PickupRouterOptions): Router {
  const router = Router();
  const gate = createPickupGate({
    links: options.links,
    accounts: options.accounts,
    clock: ctx.clock,
    minHandover: options.minHandover,
    maxAttempts: options.maxAttempts,
  });
  router.use(
    pickupPageRouter(ctx, {
      gate,
      ...(options.sessionSecret ? { sessionSecret: options.sessionSecret } : {}),
    }),
  );

  router.post('/:token', express.json({ limit: '4kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const now = ctx.clock.now();
    const body = (req.body ?? {}) as { totp?: unknown; password?: unknown };
    const factor = {
      ...(typeof body.totp === 'string' ? { totp: body.totp } : {}),
      ...(typeof body.password === 'string' ? { password: body.password } : {}),
    };
    const outcome = await gate.check(String(req.params.token), factor, req.socket.remoteAddress ?? 'unknown');
    if (!outcome.ok) {
      if (outcome.kind === 'factor-invalid')
        req.log?.warn(
          { messageId: outcome.link?.messageId, factor: outcome.method },
          'pickup refused: wrong second factor',
        );
      const extra = outcome.kind === 'assurance' ? { required: loaUri(options.minHandover) } : {};
      return sendProblem(res, outcome.code, outcome.detail, extra);
    }
    const { link, identification } = outcome;

    const message = await ctx.store.getMessage(link.messageId);
    if (
      !message ||
      message.role !== 'recipient-ap' ||
      formatParticipantId(message.recipient) !== formatParticipantId(link.recipient)
    ) {
      return sendProblem(res, 'NOT_FOUND', 'no such message');
    }
    for (const part of message.parts)
      if (!(await ctx.store.blobs.has(part.sha256)))
        return sendProblem(res, 'NOT_FOUND', 'the content is no longer held');
    // Before the claim: a message that awaits the recipient's acceptance answers 409 and keeps the link usable.
    await checkHandover(ctx, message.id, link.recipient);
    // Claimed only now: a wrong factor, a missing message or one not open yet does not use the link up.
    if (!(await ctx.store.claimPickupLink(link.linkId, message.id, now))) {
      return sendProblem(res, 'PICKUP_LINK_USED', 'the pickup link was used already');
    }
    gate.used(link.linkId);
    const delivery = await sendContent(ctx, res, message);
    // ContentHandover is proof that the content went out: sealed only after the whole body was written.
    if (!handedOverWhole(req.log, delivery.delivery, message.id, delivery.size)) return;
    try {
      await handOver(ctx, message.id, link.recipient, identification);
    } catch (error) {
      req.log?.error({ err: error, messageId: message.id }, 'content sent, ContentHandover not recorded');
    }
  });
  return router;
}

/**
 * The message's content: the one part as it is, or every part in a `multipart/mixed` body (RFC 2046 §5.1.3).
 * Both carry a Content-Length, so that a complete body is told from one cut short by its bytes (response-body.ts).
 */
async function sendContent(
  ctx: PipelineContext,
  res: Response,
  message: StoredMessage,
): Promise<{ delivery: BodyDelivery; size: number }> {
  const digest = (sha256: string) => `sha-256=${Buffer.from(sha256, 'hex').toString('base64')}`;
  if (message.parts.length === 1) {
    const part = message.parts[0]!;
    res.type(part.contentType).set('Content-Length', String(part.size)).set('Digest', digest(part.sha256));
    if (part.filename) res.attachment(part.filename);
    return { delivery: await sendPart(res, ctx.store.blobs.get(part.sha256), part.size), size: part.size };
  }
  const boundary = `qerds-${randomBytes(12).toString('hex')}`;
  const heads = message.parts.map((part) => {
    const disposition = part.filename
      ? `attachment; filename="${part.filename.replace(/["\\\r\n]/g, '_')}"`
      : 'attachment';
    return `--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Disposition: ${disposition}\r\nContent-ID: <${part.partId}>\r\nDigest: ${digest(part.sha256)}\r\n\r\n`;
  });
  const close = `--${boundary}--\r\n`;
  const size = message.parts.reduce(
    (total, part, i) => total + Buffer.byteLength(heads[i]!) + part.size + 2,
    Buffer.byteLength(close),
  );
  res.type(`multipart/mixed; boundary="${boundary}"`).set('Content-Length', String(size));
  const body = new ResponseBody(res);
  try {
    for (const [i, part] of message.parts.entries()) {
      await body.write(heads[i]!);
      await body.copy(ctx.store.blobs.get(part.sha256));
      await body.write('\r\n');
    }
    await body.write(close);
  } catch (error) {
    return { delivery: await body.end(size, error), size };
  }
  return { delivery: await body.end(size), size };
}
