import type { X509Certificate } from 'node:crypto';
import {
  formatParticipantId,
  type Clock,
  type EvidenceData,
  type IdGenerator,
  type ParticipantId,
  type TsaClient,
  type Identification,
} from '../core/index.js';
import type { EvidenceIssuer, EvidenceVerifier } from '../pipeline/index.js';
import type { SigningIdentity, TrustStore } from '../pki/index.js';
import type { EvidencePool } from './evidence-pool.js';
import { checkEvidence, sealEvidence } from './evidence-work.js';

/**
 * Binds the pipeline's EvidenceIssuer port to evidence/ (EN 319 522-3 XML) and seal/ (XAdES-B-T).
 *
 * What needs this process's state is resolved here, in the main thread: the evidence id and the seal's id (the AP's
 * IdGenerator), the event time (its Clock), the participants' names. With `pool`, the build, seal and timestamp
 * then run in a worker thread (evidence-pool.ts) on this plain data; without, here.
 */
export function createEvidenceIssuer(options: {
  self: { id: string; name: string };
  policyIds: readonly string[];
  identity: SigningIdentity;
  tsa: TsaClient;
  clock: Clock;
  ids: IdGenerator;
  /** Display name of a participant, by formatted id. */
  names: (participantId: string) => string | undefined;
  /** Raise the B-T seal to B-LT / B-LTA with these validation data; `crls` is asked at each seal (they are refreshed). */
  longTerm?: {
    level: 'B-T' | 'B-LT' | 'B-LTA';
    crls: () => readonly (Buffer | string)[];
    certificates: readonly X509Certificate[];
  };
  /** Worker threads that seal (`performance.workerThreads` > 0): they hold their own key, TSA and validation data. */
  pool?: EvidencePool;
}): EvidenceIssuer {
  const { pool, clock } = options;
  const material = {
    identity: options.identity,
    tsa: options.tsa,
    level: options.longTerm?.level ?? 'B-T',
    crls: options.longTerm?.crls ?? (() => []),
    certificates: options.longTerm?.certificates ?? [],
  };
  const details = (id: ParticipantId, identification?: Identification) => ({
    id,
    name: options.names(formatParticipantId(id)),
    identification,
  });
  return {
    async issue(request) {
      const eventTime = clock.now();
      const data: EvidenceData = {
        id: options.ids.next('ev'),
        event: request.event,
        reason: request.reason,
        eventTime,
        issuerPolicyIds: options.policyIds,
        issuer: options.self,
        sender: details(request.message.sender, request.senderIdentification),
        recipient: details(request.message.recipient, request.recipientIdentification),
        submissionTime: request.message.submittedAt,
        messageId: request.message.ebmsMessageId,
        parts: request.message.parts.map((p) => ({
          partId: p.partId,
          contentType: p.contentType,
          sha256: p.sha256,
          ...(p.plaintextSha256 === undefined ? {} : { plaintextSha256: p.plaintextSha256 }),
          ...(p.sealedOnBehalf === undefined ? {} : { sealedOnBehalf: p.sealedOnBehalf }),
        })),
        previousEvidenceId: request.previousEvidenceId,
        externalErds: request.externalErds,
      };
      const sigId = options.ids.next('sig');
      const xml = pool
        ? await pool.seal(data, sigId, clock)
        : await sealEvidence(material, data, sigId, clock);
      return { id: data.id, event: request.event, eventTime, xml };
    },
  };
}

/**
 * Binds the pipeline's EvidenceVerifier port: an evidence from another AP is good when it is TOTAL-PASSED. With
 * `pool`, verified in a worker thread holding the anchors of `trust` and the CRLs the main thread holds now.
 */
export function createEvidenceVerifier(trust: TrustStore, pool?: EvidencePool): EvidenceVerifier {
  return {
    check: (xml, options) => (pool ? pool.check(xml, options) : checkEvidence(trust, xml, options)),
  };
}
