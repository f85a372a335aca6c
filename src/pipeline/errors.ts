import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the pipeline module. HTTP status: how the REST API answers a request that fails with it; the queue's
 * own failures are internal (500) to a client, since the store, not the queue, holds what was accepted.
 */
export const pipelineErrors = {
  SUBMISSION_REJECTED: {
    text: 'submission rejected by the policy of the access point',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_UNKNOWN_RECIPIENT: {
    text: 'the recipient is not known at this access point',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_EVIDENCE_INVALID: {
    text: 'returned evidence does not verify or is sealed by another access point',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_EVIDENCE_SEAL_MISMATCH: {
    text: 'returned evidence is not sealed by the access point it names',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_EVIDENCE_SEAL_NOT_PINNED: {
    text: 'the directory pins no certificate for the access point that sealed the returned evidence',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_UNKNOWN_MESSAGE: {
    text: 'returned evidence is about no message sent from here',
    httpStatus: 422,
    retryable: false,
  },
  PIPELINE_QUEUE_CLOSED: {
    text: 'the queue is closed (the process is stopping)',
    httpStatus: 500,
    retryable: true,
  },
  PIPELINE_QUEUE_UNAVAILABLE: { text: 'the queue could not take the job', httpStatus: 500, retryable: true },
  PIPELINE_LEASE_LOST: {
    text: "the job's outbox lease was taken over by another worker: its step was not committed",
    httpStatus: 500,
    retryable: true,
  },
  PIPELINE_NO_HANDLER: { text: 'no handler is registered for the stage', httpStatus: 500, retryable: false },
  PIPELINE_HANDLER_EXISTS: {
    text: 'the stage or sweep already has a handler',
    httpStatus: 500,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type PipelineErrorCode = keyof typeof pipelineErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly pipeline: typeof pipelineErrors;
  }
}
