import type { X509Certificate } from 'node:crypto';
import { formatParticipantId, type Clock, type EvidenceData, type TsaClient } from '../core/index.js';
import { issueEvidence, verifyEvidence } from '../evidence/index.js';
import type { EvidenceCheck } from '../pipeline/index.js';
import type { SigningIdentity, TrustStore } from '../pki/index.js';
import {
  augmentXmlSeal,
  sealWrittenXml,
  sealXml,
  type WrittenXml,
  type XadesSealOptions,
} from '../seal/index.js';

/**
 * What issuing and checking evidence need beyond the data of one call: the same in the main thread (inline,
 * `performance.workerThreads` 0) and in each thread of the evidence pool, which builds its own from the same
 * configuration (evidence-thread.ts). Everything else (ids, event time, names) is resolved by the caller.
 */
export interface EvidenceSealMaterial {
  readonly identity: SigningIdentity;
  readonly tsa: TsaClient;
  /** `evidence.level`; B-LT and B-LTA embed `crls()` (read at each seal: the refresh replaces them) and `certificates`. */
  readonly level: 'B-T' | 'B-LT' | 'B-LTA';
  readonly crls: () => readonly (Buffer | string)[];
  readonly certificates: readonly X509Certificate[];
}

/**
 * Builds the EN 319 522-3 evidence of `data` and seals it (XAdES B-T, B-LT or B-LTA), the seal's Id from `sigId`
 * and its SigningTime from `clock`: the one issuing path of the inline issuer and of the pool's threads.
 */
export async function sealEvidence(
  material: EvidenceSealMaterial,
  data: EvidenceData,
  sigId: string,
  clock: Clock,
): Promise<string> {
  const base = { identity: material.identity, tsa: material.tsa, clock, idGenerator: onceIds(sigId) };
  // The written evidence (issueEvidence gives it) is sealed without a DOM (sealWrittenXml); a text alone is parsed.
  const seal = (xml: string, written: WrittenXml | undefined, options: XadesSealOptions) =>
    written ? sealWrittenXml(written, options) : sealXml(xml, options);
  const sealer = {
    seal: async (xml: string, written?: WrittenXml) => {
      if (material.level === 'B-T') return seal(xml, written, base);
      // The CRLs are read at each sealing: the refresh (validation-data-refresh.ts) replaces them while the AP runs.
      // B-LT in the same pass (no serialize, parse and timestamp re-read between sealing and augmenting).
      if (material.level === 'B-LT')
        return seal(xml, written, {
          ...base,
          longTerm: { crls: material.crls(), certificates: material.certificates },
        });
      return augmentXmlSeal(await seal(xml, written, base), {
        level: material.level,
        tsa: material.tsa,
        crls: material.crls(),
        certificates: material.certificates,
      });
    },
  };
  return (await issueEvidence(data, sealer)).xml;
}

/** The seal asks for one id: the one the caller drew from the AP's IdGenerator. */
function onceIds(sigId: string) {
  let given = false;
  return {
    next(prefix: string): string {
      if (given) throw new Error(`evidence seal asked for a second id (${prefix})`);
      given = true;
      return sigId;
    },
  };
}

/** An evidence from another AP is good when it is TOTAL-PASSED: the verdict the EvidenceVerifier port answers. */
export async function checkEvidence(
  trust: TrustStore,
  xml: string,
  options?: { readonly issuerPins?: readonly { issuerId: string; fingerprint256: string }[] },
): Promise<EvidenceCheck> {
  const report = await verifyEvidence(xml, {
    trust,
    ...(options?.issuerPins ? { issuerPins: options.issuerPins } : {}),
  });
  const evidence = report.evidence;
  return {
    valid: report.indication === 'TOTAL-PASSED' && evidence !== undefined,
    reason:
      report.indication === 'TOTAL-PASSED'
        ? undefined
        : `${report.indication} ${report.subIndication ?? ''} ${report.findings.map((f) => f.message).join('; ')}`.trim(),
    id: evidence?.id ?? '',
    event: evidence?.event ?? 'SubmissionAcceptance',
    eventTime: evidence?.eventTime ?? new Date(0),
    messageId: evidence?.messageId ?? '',
    issuerId: evidence?.issuer.id ?? '',
    sender: evidence ? formatParticipantId(evidence.sender.id) : '',
    recipient: evidence ? formatParticipantId(evidence.recipient.id) : '',
    sealFingerprint: report.seal?.signer?.fingerprint256,
    ...(report.issuerBinding ? { issuerBinding: report.issuerBinding } : {}),
    ...(report.findings.some((f) => f.code === 'EVIDENCE_ISSUER_UNBOUND') ? { issuerUnbound: true } : {}),
  };
}
