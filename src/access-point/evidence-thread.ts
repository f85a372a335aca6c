/**
 * A thread of the evidence pool (evidence-pool.ts): builds its own e-seal signer, TSA and trust store from
 * `workerData` (the AP's configuration), then issues and verifies evidence on the plain data the main thread posts.
 */
import { X509Certificate } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { Clock, TimeStampToken, TsaClient } from '../core/index.js';
import { createTrustStore, loadSigningIdentity, parseCrls, type CrlSource } from '../pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../timestamp/index.js';
import { runPackJob, runReceiptJob, type PackedJob } from './as4-work.js';
import { checkEvidence, sealEvidence } from './evidence-work.js';
import {
  fromWire,
  toWire,
  type EvidenceThreadInit,
  type ThreadReply,
  type ThreadRequest,
} from './evidence-thread-protocol.js';

const port = parentPort!;
const init = workerData as EvidenceThreadInit;
const post = (reply: ThreadReply) => port.postMessage(reply);

/** The CRLs the main thread posted last, and their generation: what the trust store reads at each validation. */
let generation = init.generation;
let crls = crlSource(init.crls);
const liveCrls: CrlSource = {
  get current() {
    return crls.current;
  },
  get parsed() {
    return crls.parsed;
  },
};

/** The main thread's clock, as an offset to this thread's wall clock (posted with each seal). */
let clockOffsetMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + clockOffsetMs) };

const identity = loadSigningIdentity(init.seal.cert, init.seal.key);
const trust = createTrustStore(
  init.anchors.map((der) => new X509Certificate(der)),
  { crls: liveCrls },
);
const certificates = init.certificates.map((der) => new X509Certificate(der));
const tsa: TsaClient = init.tsa
  ? timed(
      createLocalTsaClient(
        createTimestampAuthority({
          identity: loadSigningIdentity(init.tsa.cert, init.tsa.key),
          policyOid: init.tsa.policyOid,
          clock,
        }),
      ),
    )
  : mainThreadTsa();
const material = { identity, tsa, level: init.level, crls: () => liveCrls.current, certificates };

port.on('message', (request: ThreadRequest) => {
  switch (request.type) {
    case 'crls':
      crls = crlSource(request.crls);
      generation = request.generation;
      return;
    case 'tsa-result':
      tsaAnswered(request);
      return;
    case 'seal': {
      clockOffsetMs = request.clockOffsetMs;
      const used = generation;
      answer(request.id, used, sealEvidence(material, request.data, request.sigId, clock));
      return;
    }
    case 'check': {
      const used = generation;
      answer(
        request.id,
        used,
        checkEvidence(
          trust,
          request.xml,
          request.issuerPins ? { issuerPins: request.issuerPins } : undefined,
        ),
      );
      return;
    }
    case 'pack':
      // The MIME body goes back transferred: the main thread takes its ArrayBuffer without a copy.
      answer(request.id, generation, Promise.resolve(request.job).then(runPackJob), (packed) => [
        (packed as PackedJob).body.buffer as ArrayBuffer,
      ]);
      return;
    case 'receipt':
      answer(request.id, generation, Promise.resolve(request.job).then(runReceiptJob));
      return;
  }
});
post({ type: 'ready' });

type Result = (ThreadReply & { type: 'done' })['result'];

function answer(
  id: number,
  used: number,
  work: Promise<Result>,
  transfer: (result: Result) => ArrayBuffer[] = () => [],
) {
  work.then(
    (result) =>
      port.postMessage(
        { type: 'done', id, generation: used, result } satisfies ThreadReply,
        transfer(result),
      ),
    (error: unknown) => {
      try {
        post({ type: 'failed', id, error: toWire(error) });
      } catch {
        // details that do not clone: the code and message still go back.
        post({ type: 'failed', id, error: { ...toWire(error), details: undefined } });
      }
    },
  );
}

/** Each request timed and told to the main thread (qerds_tsa_request_duration_seconds, as its own TSA client is). */
function timed(client: TsaClient): TsaClient {
  return {
    async timestamp(imprint) {
      const start = performance.now();
      try {
        const token = await client.timestamp(imprint);
        post({ type: 'tsa-timed', seconds: (performance.now() - start) / 1000 });
        return token;
      } catch (error) {
        post({
          type: 'tsa-timed',
          seconds: (performance.now() - start) / 1000,
          error: toWire(error).code ?? 'INTERNAL',
        });
        throw error;
      }
    },
  };
}

function crlSource(list: readonly (Uint8Array | string)[]): CrlSource {
  const current = Object.freeze(
    list.map((c) => (typeof c === 'string' ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength))),
  );
  return { current, parsed: Object.freeze(current.flatMap((c) => parseCrls(c))) };
}

/** A remote TSA is called by the main thread (its fail-over state and metrics stay in one place). */
const waiting = new Map<number, { resolve(token: TimeStampToken): void; reject(error: Error): void }>();
let nextTsaId = 1;
function mainThreadTsa(): TsaClient {
  return {
    timestamp: (imprint) =>
      new Promise((resolve, reject) => {
        const id = nextTsaId++;
        waiting.set(id, { resolve, reject });
        post({ type: 'tsa', id, imprint: { algorithm: imprint.algorithm, digest: imprint.digest } });
      }),
  };
}
function tsaAnswered(result: ThreadRequest & { type: 'tsa-result' }) {
  const call = waiting.get(result.id);
  if (!call) return;
  waiting.delete(result.id);
  if (result.token)
    call.resolve({
      ...result.token,
      der: Buffer.from(result.token.der.buffer, result.token.der.byteOffset, result.token.der.byteLength),
    });
  else call.reject(fromWire(result.error ?? { message: 'no token' }));
}
