import { pino } from 'pino';
import { createEvidencePool, type EvidencePool } from '../../src/access-point/evidence-pool.js';
import type { EvidenceData } from '../../src/core/index.js';
import { createCrlSet, readTrustMaterial, type CrlSet, type DevPkiLayout } from '../../src/pki/index.js';

/**
 * An evidence pool of one thread on its own (no AP), built from a dev PKI: AP `ap`'s e-seal, the embedded TSA, the
 * dev CA as the seal anchors and its CRL as the live set. `embedCaCertificates`: the CA certificates B-LT embeds (else
 * none). For the pool's tests and their child processes.
 */
export function devPkiEvidencePool(
  pki: DevPkiLayout,
  options: { ap: 'c2' | 'c3'; level: 'B-T' | 'B-LT'; embedCaCertificates: boolean },
): { pool: EvidencePool; crls: CrlSet } {
  const material = readTrustMaterial([pki.caCert, pki.caCrl]);
  const crls = createCrlSet(material.crls, material.anchors);
  const pool = createEvidencePool({
    threads: 1,
    queueLimit: 8,
    init: {
      seal: { cert: pki.ap(options.ap).sealCert, key: pki.ap(options.ap).sealKey },
      tsa: { cert: pki.tsaCert, key: pki.tsaKey, policyOid: '1.3.6.1.4.1.99999.1' },
      anchors: material.anchors.map((a) => a.raw),
      level: options.level,
      certificates: options.embedCaCertificates ? material.anchors.map((a) => a.raw) : [],
    },
    crls,
    log: pino({ level: 'silent' }),
  });
  return { pool, crls };
}

/** An evidence about a fixed message, issued by c3 (`id`). */
export function sampleEvidence(id: string): EvidenceData {
  return {
    id,
    event: 'RelayAcceptance',
    eventTime: new Date(Math.floor(Date.now() / 1000) * 1000),
    issuerPolicyIds: ['urn:qerds-ap:policy:test'],
    issuer: { id: 'urn:qerds-ap:ap:c3', name: 'C3' },
    sender: { id: { scheme: 'iso6523-actorid-upis', value: '0088:sender' } },
    recipient: { id: { scheme: 'iso6523-actorid-upis', value: '0088:recipient' } },
    messageId: 'm-1@qerds',
    parts: [{ partId: 'p1', contentType: 'text/plain', sha256: 'a'.repeat(64) }],
  };
}
