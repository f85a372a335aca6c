/** Configuration section: Performance (assembled in config/schema.ts). */
import { z } from 'zod';

export const performance = z
  .strictObject({
    /**
     * Worker threads that issue evidence (build, XAdES seal, timestamp by the embedded TSA), verify the evidence
     * peers return, pack outgoing AS4 UserMessages held in memory (compress, sign, encrypt, MIME) and build and sign
     * AS4 receipts, off the main thread, which keeps HTTP, SQL, the verification of received AS4 messages and the
     * pipeline. `auto`: one fewer than the
     * cores node may use (`os.availableParallelism() - 1`, so 0 on one core), or the environment's
     * `QERDS_AUTO_WORKER_THREADS` when it is set (a container whose CPU quota node does not see; the test suite sets
     * 0); 0: all in the main thread. Each thread
     * loads the e-seal key and the embedded TSA's key from their files, and is started when the AP starts (not
     * inside the first message's life).
     * The keys are file keys (the e-seal always is; senders' PKCS#11 remote seals are not sealed in threads). With
     * a remote TSA, the threads ask it through the main thread. AS4 keys are posted to the threads with each call
     * (node clones a KeyObject). @defaultValue 'auto'
     */
    workerThreads: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(256)]).default('auto'),
    /**
     * Calls (evidence, AS4) that may wait for a worker thread; past it a call fails at once with EVIDENCE_POOL_FULL
     * (retryable: a job runs again later; a REST submission is answered 500 and may be sent again). @defaultValue 1024
     */
    workerQueueLimit: z.coerce.number().int().min(1).default(1024),
  })
  .prefault({});
