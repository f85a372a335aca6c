export type { Queue, JobHandler, JobOutcome } from './types.js';
export type * from './ports.js';
export { submitMessage, type SubmissionInput, type SubmissionResult } from './submission.js';
export { receiveMessage, type ReceivedMessage } from './reception.js';
export { handOver } from './handover.js';
export { acceptReturnedEvidence } from './returned-evidence.js';
export { relayStage } from './relay-stage.js';
export { deliverStage } from './deliver-stage.js';
export { notifyStage } from './notify-stage.js';
