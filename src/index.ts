/**
 * qerds-ap as a library: the public face of the package (package.json `exports`).
 *
 * An embedder runs an access point from a configuration, and verifies what access points produce offline.
 * Everything else (store, queue, pipeline, protocol modules) is internal and may change between versions;
 * the tests reach inside through access-point/internals.ts, which this module deliberately does not export.
 *
 * ```ts
 * import { createAccessPoint, loadConfig } from 'qerds-ap';
 * const ap = await createAccessPoint(loadConfig({ file: 'ap.yaml' }));
 * await ap.start();
 * ```
 */

/** Running an access point. */
export { createAccessPoint, type AccessPoint, type AccessPointOptions } from './access-point.js';
export type { WorkerSelection } from './access-point/queue-binding.js';

/** Its configuration: the schema (defaults and documentation of every key), and loading YAML < env < overrides. */
export {
  configSchema,
  loadConfig,
  type ConfigFiles,
  type ConfiguredFile,
  type LoadConfigOptions,
  type QerdsConfig,
  type QerdsConfigInput,
} from './config/index.js';

/** Offline verifiers: each judges a file by its own standard, against the trust anchors it is given. */
export {
  verifyAny,
  verifyEvidence,
  verifyEvidenceChain,
  verifyTimestampFile,
  formatReport,
  type ChainReport,
  type ProofVerification,
  type VerificationReport,
  type VerifyAnyOptions,
  type VerifyEvidenceOptions,
} from './evidence/index.js';
export {
  verifyDetachedCms,
  verifyXadesDocument,
  type CadesVerification,
  type XadesDocumentReport,
} from './seal/index.js';
export { verifyRemMessage, type RemVerification, type RemVerifyOptions } from './smtp/index.js';
export { verifyAs4Capture, type As4CaptureOptions, type As4CaptureReport } from './as4/index.js';
/** The trust anchors (and CRLs) the verifiers take, from PEM files or directories. */
export { loadTrustStore, type TrustStore } from './pki/index.js';

/** Every failure carries a stable code (`CONFIG_INVALID`, …). */
export { QerdsError, isQerdsError } from './core/index.js';
