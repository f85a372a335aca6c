import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { formatParticipantId, type Clock } from '../core/index.js';
import type { Store } from '../store/types.js';
import { readUpload, type Upload } from './multipart-upload.js';
import { sendProblem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The multipart submission, already read (by the Idempotency-Key check, which needs its identity). */
    upload?: Upload;
  }
}

export interface IdempotencyOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly maxPayloadBytes: number;
  /** How long a key and its response are kept. @defaultValue 24 h */
  readonly ttlMs?: number;
  /** A claim still running after this long is taken to be dead (its process crashed) and is taken over. @defaultValue 1 h */
  readonly staleMs?: number;
}

/** Response headers replayed with the body (never the request id: a retry is a new request). */
const replayedHeaders = ['content-type', 'location'] as const;

/**
 * `Idempotency-Key` on POST /api/v1/messages (draft-ietf-httpapi-idempotency-key-header): a client that
 * did not get the answer to a submission (timeout, dropped connection) sends it again with the same key
 * and gets the first answer back, status and body, instead of a second message. The key is scoped to the
 * authenticated participant and kept in the store for `ttlMs`, so every API process answers alike.
 * Same key, other request (metadata or files): 422. Same key while the first request runs: 409.
 * A server error (5xx) is not kept: the retry runs again. Without the header: no effect.
 */
export function idempotentSubmission(options: IdempotencyOptions): RequestHandler {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const staleMs = options.staleMs ?? 3600_000;
  return async (req, res, next) => {
    const header = req.get('idempotency-key');
    if (header === undefined) return next();
    // The draft's sf-string ("…"), or the bare token most clients send.
    const key = /^"(.*)"$/.exec(header)?.[1] ?? header;
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      return sendProblem(res, 'BAD_REQUEST', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const upload = await readUpload(req, options.store.blobs, options.maxPayloadBytes);
    req.upload = upload;
    const fingerprint = submissionFingerprint(upload);
    const account = formatParticipantId(req.principal!.participant);
    const now = options.clock.now();
    const claim = await options.store.claimIdempotencyKey({
      account,
      key,
      fingerprint,
      now,
      expiresAt: new Date(now.getTime() + ttlMs),
      staleBefore: new Date(now.getTime() - staleMs),
    });
    if (!claim.claimed) {
      // This request's files are not used (refused, or the first answer replayed): they go, as for any refusal.
      await upload.discard();
      if (claim.fingerprint !== fingerprint) {
        return sendProblem(
          res,
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key "${key}" was already used for a different request (other metadata or payload files); use a new key for a new submission`,
          { idempotencyKey: key },
        );
      }
      if (!claim.response) {
        return sendProblem(
          res,
          'IDEMPOTENCY_KEY_IN_PROGRESS',
          `a request with Idempotency-Key "${key}" is still being processed; retry later`,
          { idempotencyKey: key },
        );
      }
      req.log?.info({ idempotencyKey: key, status: claim.response.status }, 'idempotent replay');
      res.status(claim.response.status).set(claim.response.headers).set('Idempotent-Replayed', 'true');
      return void res.send(claim.response.body);
    }
    keepResponse(res, async (response) => {
      if (response.status >= 500) await options.store.releaseIdempotencyKey(account, key, claim.token);
      else await options.store.completeIdempotencyKey(account, key, claim.token, response);
    }).catch((error: unknown) =>
      req.log?.error(
        { err: error, idempotencyKey: key },
        'idempotency key not settled (a retry waits for the stale limit)',
      ),
    );
    next();
  };
}

/**
 * Calls `settle` with the response before it goes out, so that a retry arriving the moment the client
 * has its answer finds the response kept (not a claim still in progress).
 */
function keepResponse(
  res: Response,
  settle: (response: { status: number; headers: Record<string, string>; body: string }) => Promise<void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      res.send = send;
      const text =
        typeof body === 'string'
          ? body
          : Buffer.isBuffer(body)
            ? body.toString('utf8')
            : JSON.stringify(body ?? '');
      const headers: Record<string, string> = {};
      for (const name of replayedHeaders) {
        const value = res.get(name);
        if (value !== undefined) headers[name] = value;
      }
      settle({ status: res.statusCode, headers, body: text })
        .then(resolve, reject)
        .finally(() => send(body));
      return res;
    };
  });
}

/**
 * The identity of a submission: its text fields (metadata canonicalised: key order and spacing do not
 * matter) and each payload file's digest, content type and name, in order. Not the multipart framing,
 * which a client's retry may change (boundary).
 */
export function submissionFingerprint(upload: Pick<Upload, 'fields' | 'parts'>): string {
  const fields = Object.fromEntries(
    Object.entries(upload.fields)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => [name, name === 'metadata' ? canonicalJson(value) : value]),
  );
  const parts = upload.parts.map((p) => [p.sha256, p.size, p.contentType, p.filename ?? null]);
  return createHash('sha256').update(JSON.stringify({ fields, parts })).digest('hex');
}

function canonicalJson(text: string): string {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sort((value as Record<string, unknown>)[k])]),
          )
        : value;
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}
