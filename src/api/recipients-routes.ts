import { Router } from 'express';
import { parseParticipantId, type Clock, type ParticipantId } from '../core/index.js';
import { checkRecipient, type Directory } from '../directory/index.js';
import { createTrustStore, type TrustStore } from '../pki/index.js';
import { sendProblem } from './problem.js';

export interface RecipientsRouterOptions {
  readonly directory: Directory;
  /** The AP's trust store. Without one, no certificate the directory names can be trusted (an empty store). */
  readonly trust?: TrustStore;
  readonly clock: Clock;
}

/**
 * The pre-send trust check: `GET /recipients/{scheme}:{id}` answers whether the recipient is reachable, by
 * which AP and transport profile, whether that AP's certificate (and the recipient's encryption certificate)
 * chain to the trust store, and the grounds of the verdict. 404 problem when the directory does not know it.
 */
export function recipientsRouter(options: RecipientsRouterOptions): Router {
  const router = Router();
  const trust = options.trust ?? createTrustStore([]);
  router.get('/recipients/:participant', async (req, res) => {
    let participant: ParticipantId;
    try {
      participant = parseParticipantId(String(req.params.participant));
    } catch (error) {
      return sendProblem(res, 'BAD_REQUEST', (error as Error).message);
    }
    const check = await checkRecipient(options.directory, trust, participant, { clock: options.clock });
    if (check.verdict === 'unreachable' && !check.error) {
      return sendProblem(res, 'NOT_FOUND', `recipient ${check.participant} is not in the directory`, {
        check,
      });
    }
    res.json(check);
  });
  return router;
}
