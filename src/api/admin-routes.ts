import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { PipelineContext } from '../pipeline/index.js';
import type { DeadLetter } from '../store/types.js';
import { sendProblem } from './problem.js';

/** An operator key (config `adminKeys`): it names no participant and opens only /api/v1/admin. */
export interface AdminKey {
  readonly key: string;
  readonly name: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Name of the admin key that authenticated the request (admin routes only). */
    admin?: string;
  }
}

/**
 * Operator API, mounted at /api/v1/admin: dead letters (jobs whose stage gave up) and their replay.
 * Authenticated by admin keys only; a participant's API key is refused (threat: a sender replaying or
 * reading other participants' jobs).
 */
export function adminRouter(ctx: PipelineContext, keys: readonly AdminKey[]): Router {
  const router = Router();
  router.use(adminAuth(keys));

  router.get('/dead-letters', async (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100) || 100));
    res.json((await ctx.store.listDeadLetters({ limit })).map(deadLetterView));
  });

  router.post('/dead-letters/:id/replay', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id < 1)
      return sendProblem(res, 'BAD_REQUEST', 'a dead letter id is a positive integer');
    if (!(await ctx.store.replayDeadLetter(id, ctx.clock.now())))
      return sendProblem(res, 'NOT_FOUND', `no dead letter ${id}`);
    req.log?.warn({ jobId: id, admin: req.admin }, 'dead letter replayed');
    ctx.poke();
    res.json({ id, replayed: true });
  });

  return router;
}

export function deadLetterView(d: DeadLetter) {
  return {
    id: d.id,
    stage: d.stage,
    messageId: d.messageId,
    data: d.data,
    attempts: d.attempts,
    lastError: d.lastError ?? null,
    createdAt: d.createdAt.toISOString(),
    deadAt: d.deadAt.toISOString(),
  };
}

/** `Authorization: Bearer <admin key>` or `X-API-Key`, compared by SHA-256 in constant time. */
function adminAuth(keys: readonly AdminKey[]): RequestHandler {
  const table = keys.map((k) => ({ digest: sha256(k.key), name: k.name }));
  return (req, res, next) => {
    const header = req.get('authorization');
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : req.get('x-api-key');
    if (!presented) {
      res.set('WWW-Authenticate', 'Bearer');
      return sendProblem(res, 'AUTH_REQUIRED', 'an admin key is required (Authorization: Bearer <key>)');
    }
    const digest = sha256(presented);
    // Every row is compared, so the time taken does not tell which key (if any) matched.
    let match: string | undefined;
    for (const row of table) if (timingSafeEqual(row.digest, digest)) match ??= row.name;
    if (match === undefined) return sendProblem(res, 'AUTH_REQUIRED', 'the key is not an admin key');
    req.admin = match;
    next();
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
