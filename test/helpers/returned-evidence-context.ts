import type { X509Certificate } from 'node:crypto';
import { createEvidenceVerifier } from '../../src/access-point/evidence-binding.js';
import type { EvidenceData } from '../../src/core/index.js';
import type { DirectoryEntry } from '../../src/directory/index.js';
import type { PipelineContext } from '../../src/pipeline/index.js';
import { devApId, type TrustStore } from '../../src/pki/index.js';
import type { StoredMessage } from '../../src/store/types.js';

/**
 * The part of C2's pipeline context that checkReturnedEvidence reads: C2's own message about `sample` (relayed,
 * found by its ebMS id), the evidence verifier over `trust`, C2's own e-seal, and a directory whose one entry for
 * the recipient is `entry` over a plain endpoint.
 */
export function c2ReturnedEvidenceContext(options: {
  readonly sample: EvidenceData;
  readonly trust: TrustStore;
  readonly ownSeal: X509Certificate;
  readonly entry: Partial<DirectoryEntry>;
}): PipelineContext {
  const { sample, trust, ownSeal, entry } = options;
  const message = {
    id: 'm1',
    ebmsMessageId: sample.messageId,
    role: 'sender-ap',
    state: 'relayed',
    sender: sample.sender.id,
    recipient: sample.recipient.id,
    parts: [],
    submittedAt: new Date(),
    attempts: 0,
  } as unknown as StoredMessage;
  return {
    self: { id: devApId('c2'), name: 'C2' },
    evidenceVerifier: createEvidenceVerifier(trust),
    store: { findMessageByEbmsId: async (id: string) => (id === sample.messageId ? message : undefined) },
    directory: {
      lookup: async () => ({
        participant: sample.recipient.id,
        name: 'recipient',
        endpoint: 'https://c3.invalid/as4',
        ...entry,
      }),
    },
    peerSeals: { ownSealFingerprint: ownSeal.fingerprint256 },
  } as unknown as PipelineContext;
}
