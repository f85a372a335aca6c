import express, { Router } from 'express';
import { z } from 'zod';
import { loaUri, xmlCharProblem } from '../core/index.js';
import { answerAcceptance, type PipelineContext } from '../pipeline/index.js';
import { assuranceShortfall, type AssurancePolicy } from './assurance-policy.js';
import { sendProblem } from './problem.js';

const rejection = z
  .object({
    reason: z
      .string()
      .max(1000)
      // Threat: a character XML 1.0 cannot carry would make the sealed ConsignmentRejection unreadable.
      .superRefine((value, ctx) => {
        const problem = xmlCharProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  })
  .strict();

/**
 * The recipient's answer to a NotificationForAcceptance (C3, EN 319 522-1 consignment with acceptance):
 * `POST /messages/{id}/accept` → ConsignmentAcceptance, `POST /messages/{id}/reject` (optional JSON
 * `{ "reason": "…" }`) → ConsignmentRejection. Both need the identification level of a handover (REQ4): the
 * answer decides whether the content is handed over, and the evidence names who gave it.
 */
export function acceptanceRouter(ctx: PipelineContext, policy: AssurancePolicy): Router {
  const router = Router();
  const answerRoute =
    (accept: boolean): express.RequestHandler =>
    async (req, res) => {
      const principal = req.principal!;
      const shortfall = assuranceShortfall(principal.identification, policy.minHandover);
      if (shortfall)
        return sendProblem(res, 'ASSURANCE_TOO_LOW', shortfall, {
          required: loaUri(policy.minHandover),
        });
      const body = rejection.safeParse(req.body ?? {});
      if (!accept && !body.success)
        return sendProblem(
          res,
          'BAD_REQUEST',
          `body: ${body.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
        );
      const answer = accept
        ? ({ accept: true } as const)
        : { accept: false as const, reason: body.data?.reason };
      const { message, evidence } = await answerAcceptance(
        { ...ctx, log: req.log ?? ctx.log },
        String(req.params.id),
        principal.participant,
        principal.identification,
        answer,
      );
      res.json({
        id: message.id,
        state: message.state,
        evidence: { id: evidence.id, event: evidence.event, href: `/api/v1/evidence/${evidence.id}` },
      });
    };
  router.post('/messages/:id/accept', answerRoute(true));
  router.post('/messages/:id/reject', express.json({ limit: '8kb' }), answerRoute(false));
  return router;
}
