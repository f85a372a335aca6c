import express, { Router } from 'express';
import { formatAs4CaptureReport, isAs4Capture, verifyAs4Capture } from '../as4/index.js';
import { isQerdsError, type Clock } from '../core/index.js';
import { verifyAny, type ProofVerifier } from '../evidence/index.js';
import { createTrustStore, type TrustStore } from '../pki/index.js';
import type { TrustList } from '../trust-list/index.js';
import { sendProblem } from './problem.js';
import { createRemMessageVerifier, remMessageVerifier } from './rem-proof-verifier.js';

export { createRemMessageVerifier, remMessageVerifier };

export interface VerifyRouterOptions {
  /** The AP's trust store. Without one nothing is trusted (an empty store): every proof is at best INDETERMINATE. */
  readonly trust?: TrustStore;
  readonly clock: Clock;
  /** Trusted list the reports take the qualified status of seals and TSAs from. @defaultValue none */
  readonly trustList?: TrustList;
  /** Largest file accepted. @defaultValue 20 MiB */
  readonly maxBytes?: number;
}

/** AS4 captures (HTTP dump, MIME, SOAP) as a kind of {@link verifyAny}: VALID is the only valid verdict. */
export const as4CaptureVerifier: ProofVerifier = {
  kind: 'as4-capture',
  detect: isAs4Capture,
  verify: async (bytes, options) => {
    const report = verifyAs4Capture(bytes, {
      trust: options.trust,
      ...(options.at ? { at: options.at } : {}),
    });
    return {
      kind: 'as4-capture',
      valid: report.verdict === 'VALID',
      words: formatAs4CaptureReport(report),
      json: JSON.stringify({ ...report, signedContent: undefined }, null, 2),
    };
    // signedContent (the decoded original and evidence) is for receivers that act on the message, not for the report.
  },
};

export const proofVerifiers: readonly ProofVerifier[] = [remMessageVerifier, as4CaptureVerifier];

/**
 * `POST /verify`: the REST face of `qerds verify`. The body is the file itself (any content type: evidence
 * XML, an evidence bundle, a timestamp token or response, an AS4 capture, a REM message .eml), `?at=` validates as of that
 * time. The answer is 200 with the verdict inside (`valid`, and the kind's report under `report`): an
 * invalid proof is a result, not an HTTP error. 400 when the body is none of the known kinds.
 */
export function verifyRouter(options: VerifyRouterOptions): Router {
  const router = Router();
  const trust = options.trust ?? createTrustStore([]);
  router.post(
    '/verify',
    express.raw({ type: () => true, limit: options.maxBytes ?? 20 * 1024 * 1024 }),
    async (req, res) => {
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (bytes.length === 0) return sendProblem(res, 'BAD_REQUEST', 'the body must be the file to verify');
      let at: Date | undefined;
      if (req.query.at !== undefined) {
        at = new Date(String(req.query.at));
        if (Number.isNaN(at.getTime()))
          return sendProblem(res, 'BAD_REQUEST', `at: not a time: ${String(req.query.at)}`);
      }
      try {
        const result = await verifyAny(bytes, {
          trust,
          at: at ?? options.clock.now(),
          verifiers: proofVerifiers,
          ...(options.trustList ? { trustList: options.trustList } : {}),
        });
        res.json({
          kind: result.kind,
          valid: result.valid,
          report: JSON.parse(result.json) as unknown,
          text: result.words,
        });
      } catch (error) {
        if (isQerdsError(error) && error.code === 'EVIDENCE_MALFORMED')
          return sendProblem(res, 'EVIDENCE_MALFORMED', error.message);
        throw error;
      }
    },
  );
  return router;
}
