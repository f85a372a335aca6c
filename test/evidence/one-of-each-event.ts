import { evidenceEvents, type EvidenceData, type EvidenceEvent } from '../../src/core/index.js';
import { EVENT_REASONS, NEGATIVE_EVENTS } from '../../src/evidence/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

const hex = (c: string) => c.repeat(64);

/**
 * One EvidenceData per EN 319 522-1 event (all 19 we issue), each with its first reason code, spread over
 * every optional component and extension the builder writes: issuer policy ids, both assurance-level forms
 * (global level; AAL + IAL apart), submission time, several parts, the chain link, plaintext digests,
 * sealed-on-behalf, ExternalERDSDetails, Details text with characters that need escaping. Times are fixed so
 * that the XML is the same on every run.
 */
export function oneOfEachEvent(): { name: EvidenceEvent; data: EvidenceData }[] {
  const s = evidenceSamples();
  return evidenceEvents.map((event, i) => {
    const code = EVENT_REASONS[event][0]!;
    const features = i % 4;
    const data: EvidenceData = {
      ...s.SubmissionAcceptance,
      id: `ev-form-${String(i + 1).padStart(2, '0')}`,
      event,
      reason: NEGATIVE_EVENTS.has(event) ? { code, details: `why ${code} happened: <a> & "b"` } : { code },
      eventTime: new Date(Date.UTC(2026, 11, 7, 4, 0, i, 123)),
      ...(i > 0 ? { previousEvidenceId: `ev-form-${String(i).padStart(2, '0')}` } : {}),
      ...(features === 1
        ? {
            recipient: {
              ...s.ContentHandover.recipient,
              identification: {
                method: 'http://uri.etsi.org/19522/v1#/AuthenticationMethod/oauth2',
                assuranceLevel: 'http://eidas.europa.eu/LoA/substantial',
                authenticatedAt: new Date(Date.UTC(2026, 11, 7, 3, 59, 0)),
                ial: 3,
                aal: 2,
              },
            },
          }
        : {}),
      ...(features === 2
        ? { externalErds: { name: 'Example ERDS C3 K.K.', id: 'urn:qerds-ap:ap:c3' }, issuerPolicyIds: [] }
        : {}),
      parts:
        features === 3
          ? [
              {
                partId: 'part-1@c2.example',
                contentType: 'application/xml',
                sha256: hex('a'),
                sealedOnBehalf: { format: 'XAdES', submittedSha256: hex('b'), certificateSha256: hex('c') },
              },
              {
                partId: 'part-2@c2.example',
                contentType: 'application/octet-stream',
                sha256: hex('d'),
                plaintextSha256: hex('e'),
              },
              {
                partId: 'part-3@c2.example',
                contentType: 'application/pdf',
                sha256: hex('f'),
                sealedOnBehalf: { format: 'CAdES', submittedSha256: hex('1'), certificateSha256: hex('2') },
                plaintextSha256: hex('3'),
              },
            ]
          : features === 2
            ? []
            : s.SubmissionAcceptance.parts,
    };
    return { name: event, data };
  });
}
