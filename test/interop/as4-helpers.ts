import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { loadSigningIdentity, parsePemCertificates } from '../../src/pki/identity.js';
import type { DevPkiLayout, SigningIdentity, TrustStore } from '../../src/pki/types.js';
import type { Attachment, UserMessage } from '../../src/as4/index.js';

/**
 * A deliberately small TrustStore for the AS4 tests (leaf issued directly by an anchor, validity at `at`),
 * so these tests do not depend on the PKI module's path validation.
 */
export function anchorTrustStore(caCertFile: string): TrustStore {
  const anchors = parsePemCertificates(readFileSync(caCertFile, 'utf8'));
  return {
    anchors,
    validate(leaf: X509Certificate, options = {}) {
      const at = options.at ?? new Date();
      const anchor = anchors.find((a) => leaf.checkIssued(a) && leaf.verify(a.publicKey));
      const inValidity = new Date(leaf.validFrom) <= at && at <= new Date(leaf.validTo);
      const findings = [
        ...(anchor ? [] : [{ code: 'PKI_NO_PATH', message: 'not issued by a trust anchor', severity: 'error' as const }]),
        ...(inValidity ? [] : [{ code: 'PKI_CERT_EXPIRED', message: 'outside validity', severity: 'error' as const }]),
      ];
      return { valid: findings.length === 0, path: anchor ? [leaf, anchor] : [leaf], findings };
    },
  };
}

export function sealIdentity(pki: DevPkiLayout, ap: 'c2' | 'c3'): SigningIdentity {
  const files = pki.ap(ap);
  return loadSigningIdentity(files.sealCert, files.sealKey);
}

export function sampleMessage(messageId: string, attachments: readonly Attachment[]): UserMessage {
  return {
    messageId,
    timestamp: new Date('2025-01-02T03:04:05.000Z'),
    from: { partyId: 'ap-c2', partyIdType: 'urn:oasis:names:tc:ebcore:partyid-type:unregistered', role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator' },
    to: { partyId: 'ap-c3', partyIdType: 'urn:oasis:names:tc:ebcore:partyid-type:unregistered', role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder' },
    collaboration: {
      agreementRef: 'urn:qerds:agreement:test',
      service: 'urn:qerds:service:erds',
      serviceType: 'urn:qerds:services',
      action: 'Deliver',
      conversationId: 'conv-1',
    },
    messageProperties: [
      { name: 'originalSender', value: 'urn:example:sender', type: 'urn:qerds:id' },
      { name: 'finalRecipient', value: 'urn:example:recipient', type: 'urn:qerds:id' },
    ],
    payloads: attachments.map((a) => ({ href: `cid:${a.contentId}`, mimeType: a.contentType, properties: [] })),
  };
}
