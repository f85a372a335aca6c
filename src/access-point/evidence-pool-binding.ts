import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { QerdsConfig } from '../config/index.js';
import type { TsaClient } from '../core/index.js';
import { createEvidencePool, type EvidencePool } from './evidence-pool.js';
import type { KeysAndTrust } from './infrastructure.js';

/**
 * The threads `performance.workerThreads` asks for on this machine (`auto`: QERDS_AUTO_WORKER_THREADS when set, else
 * the cores node may use, less one).
 */
export function evidenceThreads(
  setting: QerdsConfig['performance']['workerThreads'],
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (setting !== 'auto') return setting;
  const fromEnv = env.QERDS_AUTO_WORKER_THREADS;
  if (fromEnv !== undefined && /^\d{1,3}$/.test(fromEnv)) return Math.min(256, Number(fromEnv));
  return Math.max(0, availableParallelism() - 1);
}

/**
 * The evidence pool of `performance.workerThreads` (undefined for 0: evidence is issued and verified in the main
 * thread). Its threads load the same e-seal and embedded TSA key files, the anchors evidence seals are judged by
 * (`sealTrust`) and the CA certificates B-LT embeds; the CRLs follow the main thread's live set. With a remote TSA,
 * `tsa` (the main thread's client, with its fail-over and metrics) timestamps for them.
 */
export function createConfiguredEvidencePool(
  config: QerdsConfig,
  infra: KeysAndTrust,
  tsa: TsaClient,
  log: Logger,
  onTsaTimed: (seconds: number, error?: string) => void,
): EvidencePool | undefined {
  const threads = evidenceThreads(config.performance.workerThreads);
  if (threads === 0) return undefined;
  const { files } = config;
  return createEvidencePool({
    threads,
    queueLimit: config.performance.workerQueueLimit,
    init: {
      seal: { cert: files.seal.cert.path, key: files.seal.key.path },
      ...(config.tsa.mode === 'embedded'
        ? { tsa: { cert: files.tsa.cert.path, key: files.tsa.key.path, policyOid: config.tsa.policyOid } }
        : {}),
      anchors: infra.sealTrust.anchors.map((a) => a.raw),
      level: config.evidence.level,
      certificates: infra.validationCertificates.map((c) => c.raw),
    },
    crls: infra.crls,
    ...(config.tsa.mode === 'embedded' ? {} : { tsa }),
    log: log.child({ component: 'evidence-pool' }),
    onTsaTimed,
  });
}
