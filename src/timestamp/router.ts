import { createRequire } from 'node:module';
import type { NextFunction, Request, Response, Router } from 'express';
import type { TimestampAuthority } from './types.js';

// express is loaded when a router is built, not when the timestamp module is: every verifier imports this
// module for verifyTimestampToken, and `qerds verify` has no use for an HTTP framework (it took a tenth of
// its start-up).
const requireModule = createRequire(import.meta.url);

/** TimeStampReqs are a few hundred bytes; the limit keeps a client from making us buffer megabytes. */
const REQUEST_LIMIT = '64kb';

function problem(res: Response, status: number, title: string, detail: string): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

/**
 * RFC 3161 §3.4 over HTTP: POST `/` with `application/timestamp-query`, answered `application/timestamp-reply`.
 * Refused requests still get a TimeStampResp (status rejection) with HTTP 200, as the RFC's transport expects;
 * only transport-level faults (wrong media type, oversized body) get problem+json.
 */
export function createTsaRouter(tsa: TimestampAuthority): Router {
  const express = requireModule('express') as typeof import('express');
  const router = express.Router();
  router.post(
    '/',
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/timestamp-query')) {
        problem(
          res,
          415,
          'Unsupported Media Type',
          'send an RFC 3161 TimeStampReq as application/timestamp-query',
        );
        return;
      }
      next();
    },
    express.raw({ type: 'application/timestamp-query', limit: REQUEST_LIMIT }),
    async (req: Request, res: Response) => {
      const body: unknown = req.body;
      const reply = await tsa.respond(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
      res.status(200).type('application/timestamp-reply').send(reply);
    },
  );
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const e = error as { status?: number; type?: string };
    if (e.type === 'entity.too.large')
      return problem(res, 413, 'Payload Too Large', `requests are limited to ${REQUEST_LIMIT}`);
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return problem(res, e.status, 'Bad Request', 'the request body could not be read');
    }
    return problem(res, 500, 'Internal Server Error', 'the TSA failed');
  });
  return router;
}
