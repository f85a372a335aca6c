import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from 'pino';
import { QerdsError, type Clock, type EvidenceData, type TsaClient } from '../core/index.js';
import type { EvidenceCheck } from '../pipeline/index.js';
import type { PackedForSending, ReceiptInput, UserMessagePacker } from '../as4/index.js';
import type { CrlSource } from '../pki/index.js';
import { packedOf, packJobOf, receiptJobOf } from './as4-work.js';
import {
  fromWire,
  toWire,
  type EvidenceThreadInit,
  type ThreadReply,
  type ThreadRequest,
} from './evidence-thread-protocol.js';

/**
 * Worker threads that issue (build, XAdES seal, timestamp) and verify evidence off the main thread, and pack AS4
 * UserMessages and sign AS4 receipts (as4-work.ts); the main thread keeps HTTP, SQL, the AS4 verification of what
 * it receives and the pipeline's decisions. Only plain data crosses: the caller resolves ids, event time and names
 * (evidence-binding.ts); a thread answers with the sealed XML, the verdict, the MIME body or the receipt.
 *
 * Validation data: each call carries the generation of the CRLs the main thread holds when it is posted; a newer
 * set is posted to every thread before the first call that needs it (a port delivers in order), and a thread
 * answers with the generation it used, so no verdict or B-LT seal rests on CRLs older than the main thread's.
 *
 * Failure: a thread that exits fails only its calls in flight (EVIDENCE_POOL_THREAD_EXITED, retryable: the outbox
 * runs the job again) and is replaced; calls wait in a bounded queue (past it EVIDENCE_POOL_FULL); `close`
 * terminates the threads.
 */
export interface EvidencePool {
  seal(data: EvidenceData, sigId: string, clock: Clock): Promise<string>;
  check(
    xml: string,
    options?: { readonly issuerPins?: readonly { issuerId: string; fingerprint256: string }[] },
  ): Promise<EvidenceCheck>;
  /** packUserMessage in a thread, for a message whose attachments are all in memory (SendUserMessageOptions.pack). */
  readonly pack: UserMessagePacker;
  /** The handler's receipt built and signed in a thread (As4HandlerOptions.receiptBuilder). */
  receipt(input: ReceiptInput): Promise<string>;
  /** Fails the calls still queued, waits for none, terminates the threads. */
  close(): Promise<void>;
  /**
   * Starts the threads now rather than at the first call (an AP's start: its first messages then do not wait for a
   * thread to load its code and keys). Returns at once; does nothing once closed or broken.
   */
  warm(): void;
  /** The threads running now: their ids (started by `warm` or at the first call). */
  readonly threadIds: readonly number[];
  /**
   * Stops one thread as if it had crashed: its calls in flight fail (retryable) and it is replaced. For an
   * operator's tooling and the tests of that path.
   */
  terminateThread(threadId: number): Promise<void>;
}

export interface EvidencePoolOptions {
  /** Threads (≥ 1). */
  readonly threads: number;
  /** Calls waiting for a thread at most; past it a call fails at once (EVIDENCE_POOL_FULL). */
  readonly queueLimit: number;
  /** What each thread builds its signer, TSA and trust store from. `crls` is taken from `crls` below. */
  readonly init: Omit<EvidenceThreadInit, 'crls' | 'generation'>;
  /** The main thread's live CRLs (a CrlSet): a new `current` array is a new generation. */
  readonly crls: CrlSource;
  /** The TSA the threads call through the main thread when they have none of their own (a remote TSA). */
  readonly tsa?: TsaClient;
  readonly log: Logger;
  /** Told of each request a thread made to its own TSA (metrics). */
  readonly onTsaTimed?: (seconds: number, error?: string) => void;
}

/** Calls one thread runs at once: two, so that it has the next while the main thread takes the last answer. */
const IN_FLIGHT_PER_THREAD = 2;

interface Call {
  readonly request: DistributiveOmit<
    ThreadRequest & { type: 'seal' | 'check' | 'pack' | 'receipt' },
    'id' | 'generation'
  >;
  resolve(value: unknown): void;
  reject(error: Error): void;
}
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Thread {
  readonly worker: Worker;
  readonly inFlight: Map<number, { call: Call; generation: number }>;
  ready: boolean;
  /** Stopped on purpose (`terminateThread`): replaced even when it had not started yet. */
  stopped: boolean;
}

export function createEvidencePool(options: EvidencePoolOptions): EvidencePool {
  const { log } = options;
  const threads: Thread[] = [];
  const queue: Call[] = [];
  let nextId = 1;
  let closed = false;
  let broken: QerdsError | undefined;
  let posted = options.crls.current;
  let generation = 1;

  const spawn = (): Thread => {
    const entry = threadEntry();
    const init: EvidenceThreadInit = { ...options.init, crls: [...posted], generation };
    const worker = newThreadWorker(entry.url, { workerData: init, ...(entry.eval ? { eval: true } : {}) });
    const thread: Thread = { worker, inFlight: new Map(), ready: false, stopped: false };
    worker.unref();
    worker.on('message', (reply: ThreadReply) => onReply(thread, reply));
    worker.on('error', (error) =>
      log.error({ err: error, thread: worker.threadId }, 'evidence thread failed'),
    );
    worker.on('exit', (code) => onExit(thread, code));
    threads.push(thread);
    return thread;
  };

  const onReply = (thread: Thread, reply: ThreadReply) => {
    if (reply.type === 'ready') {
      thread.ready = true;
      // Debug: it happens inside the first message's life, whose every info line names that message.
      log.debug({ thread: thread.worker.threadId }, 'evidence thread started');
      return;
    }
    if (reply.type === 'tsa-timed') {
      options.onTsaTimed?.(reply.seconds, reply.error);
      return;
    }
    if (reply.type === 'tsa') {
      void timestampFor(thread, reply.id, reply.imprint);
      return;
    }
    const entry = thread.inFlight.get(reply.id);
    if (!entry) return;
    thread.inFlight.delete(reply.id);
    refFor(thread);
    if (reply.type === 'failed') entry.call.reject(fromWire(reply.error));
    // Threat: a verdict on CRLs older than the ones the main thread held when it asked (a revoked seal passing).
    else if (reply.generation < entry.generation)
      entry.call.reject(
        new QerdsError(
          'EVIDENCE_POOL_STALE_VALIDATION_DATA',
          `thread used CRL generation ${reply.generation}, the call needs ${entry.generation}`,
        ),
      );
    else entry.call.resolve(reply.result);
    pump();
  };

  const timestampFor = async (
    thread: Thread,
    id: number,
    imprint: { algorithm: string; digest: Uint8Array },
  ) => {
    try {
      if (!options.tsa) throw new QerdsError('EVIDENCE_POOL_UNAVAILABLE', 'no TSA for the evidence threads');
      const token = await options.tsa.timestamp({
        algorithm: imprint.algorithm as 'sha256',
        digest: Buffer.from(imprint.digest),
      });
      thread.worker.postMessage({ type: 'tsa-result', id, token } satisfies ThreadRequest);
    } catch (error) {
      thread.worker.postMessage({ type: 'tsa-result', id, error: toWire(error) } satisfies ThreadRequest);
    }
  };

  const onExit = (thread: Thread, code: number) => {
    threads.splice(threads.indexOf(thread), 1);
    for (const { call } of thread.inFlight.values())
      call.reject(
        new QerdsError(
          'EVIDENCE_POOL_THREAD_EXITED',
          `evidence thread ${thread.worker.threadId} exited (code ${code})`,
        ),
      );
    thread.inFlight.clear();
    if (closed) return;
    if (!thread.ready && !thread.stopped) {
      // It never started (a module or a key it could not load): spawning again would fail again.
      broken = new QerdsError(
        'EVIDENCE_POOL_UNAVAILABLE',
        `evidence thread could not start (exit code ${code})`,
      );
      log.error({ code }, 'evidence thread could not start; evidence calls fail until restart');
      for (const call of queue.splice(0)) call.reject(broken);
      return;
    }
    log.warn({ thread: thread.worker.threadId, code }, 'evidence thread exited; replacing it');
    spawn();
    pump();
  };

  const refFor = (thread: Thread) => {
    // A thread with calls in flight keeps the process alive; an idle one does not (an AP never stopped still exits).
    if (thread.inFlight.size > 0) thread.worker.ref();
    else thread.worker.unref();
  };

  /** Posts the main thread's CRLs to every thread when they changed since the last post. */
  const syncCrls = () => {
    const current = options.crls.current;
    if (current === posted) return;
    posted = current;
    generation += 1;
    for (const thread of threads)
      thread.worker.postMessage({ type: 'crls', crls: [...current], generation } satisfies ThreadRequest);
  };

  const pump = () => {
    while (queue.length > 0) {
      let best: Thread | undefined;
      for (const thread of threads)
        if (
          thread.inFlight.size < IN_FLIGHT_PER_THREAD &&
          (!best || thread.inFlight.size < best.inFlight.size)
        )
          best = thread;
      if (!best) return;
      const call = queue.shift()!;
      syncCrls();
      const id = nextId++;
      best.inFlight.set(id, { call, generation });
      refFor(best);
      best.worker.postMessage({ ...call.request, id, generation } as ThreadRequest);
    }
  };

  const submit = <T>(request: Call['request']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (closed) return reject(new QerdsError('EVIDENCE_POOL_UNAVAILABLE', 'the evidence pool is closed'));
      if (broken) return reject(broken);
      if (queue.length >= options.queueLimit)
        return reject(new QerdsError('EVIDENCE_POOL_FULL', `${queue.length} evidence calls are waiting`));
      // Threads start at the first call unless warmed: a pool nobody calls starts none.
      while (threads.length < options.threads) spawn();
      queue.push({ request, resolve: resolve as (value: unknown) => void, reject });
      pump();
    });

  return {
    warm() {
      if (closed || broken) return;
      while (threads.length < options.threads) spawn();
    },
    seal: (data, sigId, clock) =>
      submit<string>({ type: 'seal', data, sigId, clockOffsetMs: clock.now().getTime() - Date.now() }),
    async check(xml, checkOptions) {
      const check = await submit<EvidenceCheck>({
        type: 'check',
        xml,
        ...(checkOptions?.issuerPins ? { issuerPins: checkOptions.issuerPins } : {}),
      });
      return check;
    },
    // The job is made in this turn (attachments copied, clock and ids read), before any other call can run.
    pack: async (input): Promise<PackedForSending> =>
      packedOf(await submit({ type: 'pack', job: packJobOf(input) })),
    receipt: (input) => submit<string>({ type: 'receipt', job: receiptJobOf(input) }),
    async close() {
      closed = true;
      for (const call of queue.splice(0))
        call.reject(new QerdsError('EVIDENCE_POOL_UNAVAILABLE', 'the evidence pool is closed'));
      await Promise.all([...threads].map((thread) => thread.worker.terminate()));
    },
    async terminateThread(threadId) {
      const thread = threads.find((t) => t.worker.threadId === threadId);
      if (!thread) return;
      thread.stopped = true;
      await thread.worker.terminate();
    },
    get threadIds() {
      return threads.map((t) => t.worker.threadId);
    },
  };
}

/**
 * A thread with the process's options as they are now (node's default is those it started with): a preload added
 * since (the bench's operation counter) runs in the thread too. Node refuses V8 and per-process options in a thread's
 * own options (`node --max-old-space-size=4096 …` throws ERR_WORKER_INVALID_EXEC_ARGV): the thread then gets node's
 * default, the start-up options a thread may take.
 */
function newThreadWorker(url: URL | string, options: WorkerOptions): Worker {
  try {
    return new Worker(url, { ...options, execArgv: process.execArgv });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    return new Worker(url, options);
  }
}

/**
 * The thread's module: the compiled evidence-thread.js beside this file in dist/. Under tsx or vitest (this file
 * is .ts) the .ts one, behind a shim that registers tsx's hooks first: node 20 loads a worker's entry module
 * before `--import` hooks (even inherited ones) apply to it.
 */
function threadEntry(): { url: URL | string; eval?: true } {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { url: new URL('./evidence-thread.js', self) };
  // tsx's ESM API as an ES module (its CommonJS build does not load in an eval'd worker).
  const tsx = pathToFileURL(
    createRequire(self)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./evidence-thread.ts', self).href;
  return {
    url: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
    eval: true,
  };
}
