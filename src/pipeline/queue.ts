/** The queue side of the pipeline, for the composition root (access-point.ts imports it from here). */
export { createInProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export { createOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox-dispatcher.js';
