import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import express, { Router, type Response } from 'express';
import { formatParticipantId, loaUri, overallAssurance, type AssuranceLevel, type Identification } from '../core/index.js';
import { checkHandover, handOver, type PickupLinks, type PipelineContext } from '../pipeline/index.js';
import { verifyPassword } from '../smtp/index.js';
import type { StoredMessage } from '../store/types.js';
import type { AccountRegistry } from './accounts.js';
import { assuranceShortfall } from './assurance-policy.js';
import { PICKUP_LINK_PASSWORD_METHOD, PICKUP_LINK_TOTP_METHOD } from './methods.js';
import { sendProblem } from './problem.js';
import { verifyTotp } from './totp.js';

export interface PickupRouterOptions {
  readonly links: PickupLinks;
  readonly accounts: AccountRegistry;
  /** Minimum overall assurance of a handover (policy.minHandoverAssurance). */
  readonly minHandover: AssuranceLevel;
  /** Wrong second factors tolerated per link before it is refused for good. @defaultValue 5 */
  readonly maxAttempts?: number;
}

/** AAL of a pickup link with each second factor (see methods.ts). */
const TOTP_AAL: AssuranceLevel = 2;
const PASSWORD_AAL: AssuranceLevel = 1;

/**
 * People pick up content (REQ4): `POST /pickup/<token>` with `{"totp": "123456"}` or `{"password": "…"}`.
 * The link (made by `PickupLinks.buildPickupLink`, sent in the notification) names the message and the
 * recipient; the second factor is the recipient account's `totp` or `password` credential. On success the
 * link is used up (stored), ContentHandover records the method and level, and the response is the
 * content: the part itself when there is one, `multipart/mixed` otherwise. Every refusal is a problem+json
 * (401 link or factor not valid, 403 link used, locked or below policy) and hands nothing over.
 */
export function pickupRouter(ctx: PipelineContext, options: PickupRouterOptions): Router {
  const router = Router();
  const maxAttempts = options.maxAttempts ?? 5;
  // Wrong factors per link id, in this process. Threat: guessing a 6-digit TOTP with a stolen link; the
  // link's lifetime bounds the map (entries of expired links are dropped as they are seen).
  const failures = new Map<string, { count: number; expiresAt: Date }>();

  router.post('/:token', express.json({ limit: '4kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const now = ctx.clock.now();
    for (const [id, f] of failures) if (f.expiresAt <= now) failures.delete(id);
    const link = options.links.verify(String(req.params.token));
    if (!link.ok) return sendProblem(res, 401, link.code, link.reason);
    const failed = failures.get(link.linkId)?.count ?? 0;
    if (failed >= maxAttempts) return sendProblem(res, 403, 'PICKUP_LINK_LOCKED', `the pickup link is locked after ${failed} wrong second factors`);

    const body = (req.body ?? {}) as { totp?: unknown; password?: unknown };
    const factors = options.accounts.pickupFactorsOf(formatParticipantId(link.recipient));
    let method: string;
    let aal: AssuranceLevel;
    let ok: boolean;
    if (typeof body.totp === 'string' && factors?.totpSecret) {
      [method, aal, ok] = [PICKUP_LINK_TOTP_METHOD, TOTP_AAL, verifyTotp(factors.totpSecret, body.totp, now)];
    } else if (typeof body.password === 'string' && factors?.passwordHash) {
      [method, aal, ok] = [PICKUP_LINK_PASSWORD_METHOD, PASSWORD_AAL, await verifyPassword(body.password, factors.passwordHash)];
    } else {
      return sendProblem(res, 401, 'PICKUP_FACTOR_REQUIRED', 'a second factor is required: "totp" or "password", as enrolled for the recipient');
    }
    if (!ok) {
      failures.set(link.linkId, { count: failed + 1, expiresAt: link.expiresAt });
      req.log?.warn({ messageId: link.messageId, method }, 'pickup refused: wrong second factor');
      return sendProblem(res, 401, 'PICKUP_FACTOR_INVALID', 'the second factor is not valid');
    }

    const ial = factors!.ial;
    const identification: Identification = {
      method,
      assuranceLevel: overallAssurance(ial, aal).uri,
      authenticatedAt: now,
      ial,
      aal,
      // The link id's prefix, never the token (a bearer secret until used).
      credentialId: `pickup-link:${link.linkId.slice(0, 8)}`,
    };
    const shortfall = assuranceShortfall(identification, options.minHandover);
    if (shortfall) return sendProblem(res, 403, 'ASSURANCE_TOO_LOW', shortfall, { required: loaUri(options.minHandover) });

    const message = await ctx.store.getMessage(link.messageId);
    if (!message || message.role !== 'recipient-ap' || formatParticipantId(message.recipient) !== formatParticipantId(link.recipient)) {
      return sendProblem(res, 404, 'NOT_FOUND', 'no such message');
    }
    for (const part of message.parts) if (!(await ctx.store.blobs.has(part.sha256))) return sendProblem(res, 404, 'NOT_FOUND', 'the content is no longer held');
    // Claimed only now: a wrong factor or a missing message does not use the link up.
    if (!(await ctx.store.claimPickupLink(link.linkId, message.id, now))) {
      return sendProblem(res, 403, 'PICKUP_LINK_USED', 'the pickup link was used already');
    }
    failures.delete(link.linkId);
    await checkHandover(ctx, message.id, link.recipient);
    await sendContent(ctx, res, message);
    // ContentHandover is proof that the content went out: sealed only after the whole body was written.
    try {
      await handOver(ctx, message.id, link.recipient, identification);
    } catch (error) {
      req.log?.error({ err: error, messageId: message.id }, 'content sent, ContentHandover not recorded');
    }
  });
  return router;
}

/** The message's content: the one part as it is, or every part in a `multipart/mixed` body (RFC 2046 §5.1.3). */
async function sendContent(ctx: PipelineContext, res: Response, message: StoredMessage): Promise<void> {
  const digest = (sha256: string) => `sha-256=${Buffer.from(sha256, 'hex').toString('base64')}`;
  if (message.parts.length === 1) {
    const part = message.parts[0]!;
    res.type(part.contentType).set('Content-Length', String(part.size)).set('Digest', digest(part.sha256));
    if (part.filename) res.attachment(part.filename);
    await pipeline(ctx.store.blobs.get(part.sha256), res);
    return;
  }
  const boundary = `qerds-${randomBytes(12).toString('hex')}`;
  res.type(`multipart/mixed; boundary="${boundary}"`);
  for (const part of message.parts) {
    const disposition = part.filename ? `attachment; filename="${part.filename.replace(/["\\\r\n]/g, '_')}"` : 'attachment';
    res.write(`--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Disposition: ${disposition}\r\nContent-ID: <${part.partId}>\r\nDigest: ${digest(part.sha256)}\r\n\r\n`);
    await pipeline(ctx.store.blobs.get(part.sha256), res, { end: false });
    res.write('\r\n');
  }
  res.end(`--${boundary}--\r\n`);
}
