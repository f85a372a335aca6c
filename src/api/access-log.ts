import type { Request, Response } from 'express';
import type { Logger } from 'pino';

/** Paths that orchestrators and scrapers poll every few seconds: their lines are debug, not info. */
const probes = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One access-log line per HTTP request, once its answer is sent (or the connection closed before):
 * `msg: 'http'` with requestId, method, path, status and ms. Only these: never a header (threat: the API key
 * or a session cookie in the log), never the query string, and `path` as the caller masked it (a pickup
 * link's token is a bearer secret). 5xx and answers cut short are warnings; the probes are debug.
 */
export function logAccess(
  req: Request,
  res: Response,
  log: Logger,
  line: { requestId: string; path: string },
): void {
  const started = process.hrtime.bigint();
  res.once('close', () => {
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
    const fields = {
      requestId: line.requestId,
      method: req.method,
      path: line.path,
      status: res.statusCode,
      ms,
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    if (!res.writableFinished || res.statusCode >= 500) log.warn(fields, 'http');
    else if (probes.has(line.path)) log.debug(fields, 'http');
    else log.info(fields, 'http');
  });
}
