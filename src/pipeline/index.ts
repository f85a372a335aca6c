export type { Queue, JobCompletion, JobHandler, JobOutcome, JobRunner } from './types.js';
export { pipelineErrors, type PipelineErrorCode } from './errors.js';
export { createInProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export { createBullmqQueue, type BullmqQueue, type BullmqQueueOptions } from './bullmq-queue.js';
export {
  createOutboxDispatcher,
  type OutboxDispatcher,
  type OutboxDispatcherOptions,
} from './outbox-dispatcher.js';
export { createOutboxJobRunner, type OutboxJobRunnerOptions } from './outbox-job-runner.js';
export { backoffDelay, retrySpanMs, type BackoffOptions } from './backoff.js';
export type * from './ports.js';
export { submitMessage, type SubmissionInput, type SubmissionResult } from './submission.js';
export { receiveMessage, type ReceivedMessage } from './reception.js';
export { receiveFromNonErds, NON_ERDS_PEER, type NonErdsMessage } from './non-erds-reception.js';
export { checkHandover, handOver } from './handover.js';
export {
  acceptReturnedEvidence,
  acceptReturnedEvidenceGroup,
  checkReturnedEvidence,
  type CheckedReturnedEvidence,
} from './returned-evidence.js';
export { relayStage } from './relay-stage.js';
export { deliverStage } from './deliver-stage.js';
export { acceptanceExpiryStage } from './acceptance-expiry-stage.js';
export { answerAcceptance, type AcceptanceAnswer } from './acceptance-response.js';
export { notifyStage } from './notify-stage.js';
export { mailDeliveryStage } from './mail-delivery-stage.js';
export { mailEvidenceStage } from './mail-evidence-stage.js';
export { evidenceWebhookStage } from './evidence-webhook-stage.js';
export { enqueueSenderCopies } from './sender-copies.js';
export {
  encryptPartsForRecipient,
  isEnvelopedCms,
  isSignedCms,
  AUTH_ENVELOPED_CONTENT_TYPE,
} from './e2e-encryption.js';
export {
  PickupLinks,
  type PickupLinkCheck,
  type PickupLinkOptions,
  type PickupLinkPayload,
} from './pickup-link.js';
export { streamToBuffer } from './stage-support.js';
export { startSweepTimer } from './sweep-timer.js';
