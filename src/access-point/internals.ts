import type { AccessPoint } from '../access-point.js';
import type { PipelineContext } from '../pipeline/index.js';
import type { SigningIdentity, TrustStore } from '../pki/index.js';
import type { EvidencePool } from './evidence-pool.js';

/**
 * What a running access point is built from: its pipeline context (store, queue, evidence issuer, transport…),
 * its e-seal with the private key, and its trust store.
 *
 * Deliberately outside the package's public face (src/index.ts does not export this module): an embedder
 * drives an AP through its config, URL, start and stop, and the store and queue stay free to change. The
 * in-process CLI commands and the tests use this accessor, by name, where they need to reach inside.
 */
export interface AccessPointInternals {
  readonly context: PipelineContext;
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
  /** The worker threads that issue and verify evidence (`performance.workerThreads` > 0). */
  readonly evidencePool?: EvidencePool;
}

const byAccessPoint = new WeakMap<AccessPoint, AccessPointInternals>();

/** Called once by createAccessPoint for the AP it returns. */
export function registerAccessPointInternals(ap: AccessPoint, internals: AccessPointInternals): AccessPoint {
  byAccessPoint.set(ap, internals);
  return ap;
}

/** The internals of an AP that createAccessPoint made; anything else is a programming error. */
export function accessPointInternals(ap: AccessPoint): AccessPointInternals {
  const internals = byAccessPoint.get(ap);
  if (!internals) throw new TypeError('not an access point made by createAccessPoint');
  return internals;
}
