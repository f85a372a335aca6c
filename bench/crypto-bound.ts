import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { BroadcastChannel, Worker } from 'node:worker_threads';

/**
 * The crypto bound of a message: how many messages per second the machine could process if the private-key
 * operations were all it did. The operations a run performs are counted by kind (RSA-2048 sign, P-256 sign,
 * Ed25519 sign, RSA decrypt, X25519 key agreement, …) by wrapping node:crypto's one-shot `sign`, `privateDecrypt`
 * and `diffieHellman` (what src/ uses: grep shows no `createSign`/WebCrypto signing on the message path), and
 * `generateKeyPairSync`, which makes the ephemeral key of each key agreement a sender starts (X25519 of eDelivery
 * AS4 2.0: a scalar multiplication, as the agreement is); each
 * kind's rate is then measured with node:crypto on every core at once (one worker thread per core), and
 *
 *   bound (msg/s) = 1 / Σ_kind (operations of that kind per message / all-core rate of that kind).
 *
 * Counted in this process: the main thread, and worker threads started after `countInWorkerThreads` (the
 * evidence pool's), which tell theirs over a BroadcastChannel; child processes would be under-counted, and the
 * bench says so by printing the counts.
 */
export interface OperationCounter {
  readonly counts: ReadonlyMap<string, number>;
  stop(): void;
}

const require = createRequire(import.meta.url);
const crypto = require('node:crypto') as typeof import('node:crypto');

// One kind-of function for both threads: the worker threads' CommonJS preload defines it (it cannot import this file).
const { kindOf, generatedKindOf } = require('./thread-op-counter.cjs') as {
  kindOf: (op: 'sign' | 'decrypt' | 'derive', key: unknown) => string;
  generatedKindOf: (type: unknown, options: unknown) => string;
};

const THREAD_CHANNEL = 'qerds-bench-private-key-operations';
let threadOperations: { kind: string; at: number }[] | undefined;

/**
 * Worker threads started from now on count their private-key operations too (thread-op-counter.cjs, preloaded:
 * the evidence pool starts its threads with the process's execArgv as it is then); `countPrivateKeyOperations` adds those made while it counted.
 */
export function countInWorkerThreads(): void {
  if (threadOperations) return;
  threadOperations = [];
  process.execArgv.push('--require', fileURLToPath(new URL('./thread-op-counter.cjs', import.meta.url)));
  const channel = new BroadcastChannel(THREAD_CHANNEL);
  channel.unref();
  channel.onmessage = (event) =>
    threadOperations!.push(...(event as { data: { kind: string; at: number }[] }).data);
}

/** Start counting private-key operations in this process (node:crypto's live ESM bindings are updated too). */
export function countPrivateKeyOperations(): OperationCounter {
  const counts = new Map<string, number>();
  const bump = (kind: string): void => {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  };
  const original = {
    sign: crypto.sign,
    privateDecrypt: crypto.privateDecrypt,
    diffieHellman: crypto.diffieHellman,
    generateKeyPairSync: crypto.generateKeyPairSync,
  };
  const patched = crypto as unknown as Record<string, unknown>;
  patched.sign = function (this: unknown, ...args: Parameters<typeof crypto.sign>) {
    bump(kindOf('sign', args[2]));
    return Reflect.apply(original.sign, this, args) as unknown;
  };
  patched.privateDecrypt = function (this: unknown, ...args: Parameters<typeof crypto.privateDecrypt>) {
    bump(kindOf('decrypt', args[0]));
    return Reflect.apply(original.privateDecrypt, this, args) as unknown;
  };
  patched.diffieHellman = function (this: unknown, ...args: Parameters<typeof crypto.diffieHellman>) {
    bump(kindOf('derive', args[0].privateKey));
    return Reflect.apply(original.diffieHellman, this, args) as unknown;
  };
  patched.generateKeyPairSync = function (this: unknown, ...args: unknown[]) {
    bump(generatedKindOf(args[0], args[1]));
    return Reflect.apply(original.generateKeyPairSync, this, args) as unknown;
  };
  syncBuiltinESMExports();
  const from = Date.now();
  let to: number | undefined;
  return {
    get counts() {
      // The threads' operations of the counting window (their messages may arrive after stop()).
      const all = new Map(counts);
      for (const op of threadOperations ?? [])
        if (op.at >= from && (to === undefined || op.at <= to)) all.set(op.kind, (all.get(op.kind) ?? 0) + 1);
      return all;
    },
    stop() {
      to = Date.now();
      Object.assign(patched, original);
      syncBuiltinESMExports();
    },
  };
}

/** One worker's loop for a kind: a fresh key of that kind, its operation repeated for `ms`. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const c = require('node:crypto');
const { kind, ms } = workerData;
const [op, spec] = kind.split(':');
let run;
if (spec.startsWith('rsa')) {
  const bits = Number(spec.replace(/^rsa(-pss)?/, '')) || 2048;
  const { privateKey, publicKey } = c.generateKeyPairSync(spec.startsWith('rsa-pss') ? 'rsa-pss' : 'rsa', { modulusLength: bits });
  const data = Buffer.alloc(64, 1);
  const enc = c.publicEncrypt({ key: publicKey, padding: c.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.alloc(32, 2));
  run = op === 'decrypt'
    ? () => c.privateDecrypt({ key: privateKey, padding: c.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, enc)
    : op === 'generate'
      ? () => c.generateKeyPairSync(spec.startsWith('rsa-pss') ? 'rsa-pss' : 'rsa', { modulusLength: bits })
      : () => c.sign('sha256', data, privateKey);
} else if (spec.startsWith('ec-')) {
  const namedCurve = spec.slice(3);
  const a = c.generateKeyPairSync('ec', { namedCurve });
  const b = c.generateKeyPairSync('ec', { namedCurve });
  const data = Buffer.alloc(64, 1);
  run = op === 'derive'
    ? () => c.diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })
    : op === 'generate'
      ? () => c.generateKeyPairSync('ec', { namedCurve })
      : () => c.sign('sha256', data, a.privateKey);
} else {
  // ed25519, x25519, ed448, x448: signatures without a separate digest, key agreement, key generation.
  const a = c.generateKeyPairSync(spec);
  const b = c.generateKeyPairSync(spec);
  const data = Buffer.alloc(64, 1);
  run = op === 'derive'
    ? () => c.diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })
    : op === 'generate'
      ? () => c.generateKeyPairSync(spec)
      : () => c.sign(null, data, a.privateKey);
}
const end = performance.now() + ms;
let n = 0;
while (performance.now() < end) { run(); n++; }
parentPort.postMessage(n / (ms / 1000));
`;

/** Operations per second of `kind` on all cores (one worker thread per core, `ms` each). */
export async function allCoreRate(kind: string, ms = 1500): Promise<number> {
  const cores = availableParallelism();
  const rates = await Promise.all(
    Array.from(
      { length: cores },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(WORKER, { eval: true, workerData: { kind, ms } });
          w.once('message', (rate: number) => {
            resolve(rate);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  return rates.reduce((a, b) => a + b, 0);
}

export interface CryptoBound {
  /** Messages per second if private-key operations were the only work, on all cores. */
  readonly messagesPerSecond: number;
  /** Per kind: operations per message and the all-core rate. */
  readonly kinds: readonly { kind: string; perMessage: number; rate: number }[];
}

/** The bound for `messages` messages that performed `counts` operations. */
export async function cryptoBound(
  counts: ReadonlyMap<string, number>,
  messages: number,
): Promise<CryptoBound> {
  const kinds: { kind: string; perMessage: number; rate: number }[] = [];
  let secondsPerMessage = 0;
  for (const [kind, n] of [...counts].sort()) {
    if (kind.endsWith(':unknown')) continue;
    const rate = await allCoreRate(kind);
    const perMessage = n / messages;
    kinds.push({ kind, perMessage, rate });
    secondsPerMessage += perMessage / rate;
  }
  return { messagesPerSecond: secondsPerMessage > 0 ? 1 / secondsPerMessage : Infinity, kinds };
}
