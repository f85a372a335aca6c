import type { X509Certificate } from 'node:crypto';
import {
  formatParticipantId,
  type Clock,
  type IdGenerator,
  type ParticipantId,
  type TsaClient,
  type Identification,
} from '../core/index.js';
import { issueEvidence, verifyEvidence } from '../evidence/index.js';
import type { EvidenceCheck, EvidenceIssuer, EvidenceVerifier } from '../pipeline/index.js';
import type { SigningIdentity, TrustStore } from '../pki/index.js';
import { augmentXmlSeal, sealXml } from '../seal/index.js';

/** Binds the pipeline's EvidenceIssuer port to evidence/ (EN 319 522-3 XML) and seal/ (XAdES-B-T). */
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
}): EvidenceIssuer {
  const { longTerm } = options;
  const sealer = {
    seal: async (xml: string, parsed?: Document) => {
      const base = {
        identity: options.identity,
        tsa: options.tsa,
        clock: options.clock,
        idGenerator: options.ids,
      };
      if (!longTerm || longTerm.level === 'B-T') return sealXml(xml, base, parsed);
      // The CRLs are read at each sealing: the refresh (validation-data-refresh.ts) replaces them while the AP runs.
      // B-LT in the same pass (no serialize, parse and timestamp re-read between sealing and augmenting).
      if (longTerm.level === 'B-LT')
        return sealXml(
          xml,
          { ...base, longTerm: { crls: longTerm.crls(), certificates: longTerm.certificates } },
          parsed,
        );
      return augmentXmlSeal(await sealXml(xml, base, parsed), {
        level: longTerm.level,
        tsa: options.tsa,
        crls: longTerm.crls(),
        certificates: longTerm.certificates,
      });
    },
  };
  const details = (id: ParticipantId, identification?: Identification) => ({
    id,
    name: options.names(formatParticipantId(id)),
    identification,
  });
  return {
    async issue(request) {
      const eventTime = options.clock.now();
      const { id, xml } = await issueEvidence(
        {
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
        },
        sealer,
      );
      return { id, event: request.event, eventTime, xml };
    },
  };
}

/** Binds the pipeline's EvidenceVerifier port: an evidence from another AP is good when it is TOTAL-PASSED. */
export function createEvidenceVerifier(trust: TrustStore): EvidenceVerifier {
  return {
    async check(xml, options): Promise<EvidenceCheck> {
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
    },
  };
}
