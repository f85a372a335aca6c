import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints of a WAL-mode SQLite file, run on a thread of their own with its own connection. A checkpoint copies
 * the WAL's committed pages into the database file and fsyncs both: with SQLite's automatic checkpoint (every 1000
 * WAL pages) that happened inside a COMMIT, synchronously on the event loop of the process that owns the store, a
 * stall of tens of milliseconds every few dozen messages (the bench's p99 at half rate: 360–600 ms with it, 130–160
 * without, load 11). The store's connection leaves checkpoints to this thread while it runs (keeping its own only
 * as a backstop, far above the default); if the thread dies, it takes them back (a WAL nobody checkpoints grows
 * without end).
 *
 * PASSIVE checkpoints: they copy what no reader still needs and never wait for a lock, so writers and readers on the
 * store's connection are never held up by them; SQLite restarts the WAL from its start at the first commit after a
 * checkpoint that copied everything.
 */
export interface WalCheckpointer {
  /** Asks for a checkpoint now (starting the thread if it is not running); resolves with what it did. */
  checkpoint(): Promise<CheckpointResult>;
  /** Stops the timer and the thread. */
  close(): Promise<void>;
  /** Tests: stops the thread as if it had died (no-op when none runs). */
  terminate(): Promise<void>;
}

/** What `PRAGMA wal_checkpoint(PASSIVE)` answers: `log` frames in the WAL, `checkpointed` of them copied. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

export interface WalCheckpointerOptions {
  readonly file: string;
  /** How often to checkpoint when something was written since the last time. @defaultValue 250 */
  readonly intervalMs?: number;
  /** Whether anything was committed since the last call (the store's change counter moved). */
  readonly wroteSince: () => boolean;
  /**
   * The thread is starting (at the first write: a store only read never starts one): the store's connection leaves
   * checkpoints to it.
   */
  readonly onStart: () => void;
  /** The thread ended without being asked (crashed, killed): the store's connection checkpoints by itself again. */
  readonly onExit: (code: number) => void;
}

// CommonJS in the thread: better-sqlite3 is loaded by the path resolved here, wherever the process was started.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (request) => {
  if (request.type === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ id: request.id, result });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: String(error && error.message || error) });
  }
});
`;

/** A WalCheckpointer whose thread starts at the first write seen by its timer, or at the first `checkpoint()`. */
export function startWalCheckpointer(options: WalCheckpointerOptions): WalCheckpointer {
  let thread: CheckpointThread | undefined;
  /** Stopped by close, or the thread died: the store's connection checkpoints by itself from then on. */
  let over = false;
  const running = (): CheckpointThread => {
    if (over) throw new Error('the SQLite checkpoint thread is not running');
    if (!thread) {
      options.onStart();
      thread = spawnCheckpointThread(options.file, (code) => {
        over = true;
        clearInterval(timer);
        options.onExit(code);
      });
    }
    return thread;
  };
  const timer = setInterval(() => {
    if (over || thread?.busy || !options.wroteSince()) return;
    // A failed checkpoint is tried again at the next write; SQLite's WAL stays valid whatever happened.
    running()
      .checkpoint()
      .catch(() => undefined);
  }, options.intervalMs ?? 250);
  // Neither the timer nor the thread keeps the process alive.
  timer.unref();
  return {
    checkpoint: async () => running().checkpoint(),
    async close() {
      over = true;
      clearInterval(timer);
      await thread?.close();
    },
    async terminate() {
      await thread?.terminate();
    },
  };
}

interface CheckpointThread {
  readonly busy: boolean;
  checkpoint(): Promise<CheckpointResult>;
  close(): Promise<void>;
  terminate(): Promise<void>;
}

function spawnCheckpointThread(file: string, onDied: (code: number) => void): CheckpointThread {
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { file, betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  worker.unref();
  const waiting = new Map<number, { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closing = false;
  /** Someone awaits the thread's end (close, terminate): it keeps the process alive until then. */
  let ending = false;
  worker.on('message', (reply: { id: number; result?: CheckpointResult; error?: string }) => {
    const call = waiting.get(reply.id);
    waiting.delete(reply.id);
    // Idle again: the thread alone no longer keeps the process alive (but for a close waiting for its end).
    if (waiting.size === 0 && !ending) worker.unref();
    if (!call) return;
    if (reply.error !== undefined) call.reject(new Error(`SQLite checkpoint failed: ${reply.error}`));
    else call.resolve(reply.result!);
  });
  // An error event is followed by exit: handled there.
  worker.on('error', () => undefined);
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      for (const call of waiting.values()) call.reject(new Error('the SQLite checkpoint thread stopped'));
      waiting.clear();
      if (!closing) onDied(code);
      resolve();
    }),
  );
  return {
    get busy() {
      return waiting.size > 0;
    },
    checkpoint: () =>
      new Promise<CheckpointResult>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        // A caller waiting for an answer keeps the process alive until it comes.
        worker.ref();
        worker.postMessage({ type: 'checkpoint', id });
      }),
    // Whoever awaits the thread's end keeps the process alive until it has ended (an unref'd thread alone does not:
    // a process whose last task is `await store.close()` would exit in the middle of it).
    async close() {
      closing = true;
      ending = true;
      worker.ref();
      worker.postMessage({ type: 'close' });
      await exited;
    },
    async terminate() {
      ending = true;
      worker.ref();
      await worker.terminate();
      await exited;
    },
  };
}
