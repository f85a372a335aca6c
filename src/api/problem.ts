import type { ErrorRequestHandler, Response } from 'express';
import { coreErrors, isQerdsError, type ErrorCatalogueEntry } from '../core/index.js';
import { evidenceErrors } from '../evidence/index.js';
import { pipelineErrors } from '../pipeline/index.js';
import { apiErrors } from './errors.js';

/**
 * The catalogues whose codes a thrown QerdsError reaching the REST edge is answered with, by its entry's status and
 * title (RFC 9457 `title`: the catalogue text, the same for every occurrence). A QerdsError of any other code is a
 * 500 whose text is not shown: the other modules' catalogues name statuses too, but their codes reach the client
 * only through routes that answer them on purpose, and turning them on here changes answers that clients see today.
 */
const restCatalogue: Readonly<Record<string, ErrorCatalogueEntry>> = { ...coreErrors, ...pipelineErrors };
const entryOf = (code: string) => (Object.hasOwn(restCatalogue, code) ? restCatalogue[code] : undefined);

/** The codes routes answer on purpose: the REST ones, the API's own, and a verification input refused as malformed. */
const answered = {
  ...coreErrors,
  ...pipelineErrors,
  ...apiErrors,
  EVIDENCE_MALFORMED: evidenceErrors.EVIDENCE_MALFORMED,
};
export type ProblemCode = keyof typeof answered;

/**
 * Answer an RFC 9457 problem+json with the status and title of the code's catalogue entry. `type` is a stable URN
 * built from the code.
 */
export function sendProblem(
  res: Response,
  code: ProblemCode,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  const entry: ErrorCatalogueEntry = answered[code];
  writeProblem(res, entry.httpStatus, code, entry.text, detail, extra);
}

function writeProblem(
  res: Response,
  status: number,
  code: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: `urn:qerds-ap:problem:${code}`, title, status, detail, code, ...extra });
}

/** The one place where errors become HTTP responses. Internal errors do not leak their text. */
export const problemHandler: ErrorRequestHandler = (error, req, res, _next) => {
  if (res.headersSent) {
    // Too late for a problem document: the client sees the connection cut, the operator sees why.
    req.log?.error({ err: error }, 'error after the response started: connection closed');
    return res.destroy(error as Error);
  }
  if (isQerdsError(error)) {
    const status = entryOf(error.code)?.httpStatus ?? 500;
    // Which limit a refusal hit (multipart-upload.ts), so that a client can tell what to change.
    const limit =
      status < 500 && error.details?.limit !== undefined
        ? {
            limit: error.details.limit,
            ...(error.details.max === undefined ? {} : { max: error.details.max }),
          }
        : {};
    const title = entryOf(error.code)?.text ?? error.code;
    return writeProblem(
      res,
      status,
      error.code,
      title,
      status === 500 ? 'internal error' : error.message,
      limit,
    );
  }
  const status = (error as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // body-parser's refusals (express.json / urlencoded): over its limit is a 413 like every other size limit.
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    return writeProblem(res, status, code, coreErrors[code].text, (error as Error).message);
  }
  req.log?.error({ err: error }, 'unhandled error');
  return sendProblem(res, 'INTERNAL', 'internal error');
};
