import { readOidSequence, readQcStatements } from './x509-read.js';

/*
 * Qualified certificate statements (RFC 3739 §3.2.6, ETSI EN 319 412-5) and the ETSI certificate policy identifiers
 * (EN 319 411-1, EN 319 411-2). The standards' texts are not available offline: the OIDs below are the ones
 * published in widely used validators (EU DSS `CertificatePolicy`, Bouncy Castle `ETSIQCObjectIdentifiers`), and
 * only the meaning their names carry (esign / eseal / web; natural / legal person / website) is relied on.
 */

/** id-pe-qcStatements (RFC 3739). */
export const QC_STATEMENTS_OID = '1.3.6.1.5.5.7.1.3';
/** id-etsi-qcs-QcCompliance: an EU qualified certificate. */
export const QC_COMPLIANCE_OID = '0.4.0.1862.1.1';
/** id-etsi-qcs-QcSSCD: the private key is in a QSCD. */
export const QC_SSCD_OID = '0.4.0.1862.1.4';
/** id-etsi-qcs-QcType: statementInfo is `SEQUENCE OF OBJECT IDENTIFIER` naming the certificate's type(s). */
export const QC_TYPE_OID = '0.4.0.1862.1.6';
/** QcType values: electronic signature (natural persons), electronic seal (legal persons), website authentication. */
export const QC_TYPES = Object.freeze({
  '0.4.0.1862.1.6.1': 'esign',
  '0.4.0.1862.1.6.2': 'eseal',
  '0.4.0.1862.1.6.3': 'web',
} as const);
export type QcType = (typeof QC_TYPES)[keyof typeof QC_TYPES];

/** ETSI certificate policies, by OID: EN 319 411-2 (qualified) and EN 319 411-1 (the website ones). */
export const ETSI_POLICIES: Readonly<Record<string, { name: string; holder: 'natural' | 'legal' | 'web' }>> =
  Object.freeze({
    '0.4.0.194112.1.0': { name: 'QCP-n', holder: 'natural' },
    '0.4.0.194112.1.1': { name: 'QCP-l', holder: 'legal' },
    '0.4.0.194112.1.2': { name: 'QCP-n-qscd', holder: 'natural' },
    '0.4.0.194112.1.3': { name: 'QCP-l-qscd', holder: 'legal' },
    '0.4.0.194112.1.4': { name: 'QCP-w', holder: 'web' },
    '0.4.0.2042.1.4': { name: 'EVCP', holder: 'web' },
    '0.4.0.2042.1.6': { name: 'DVCP', holder: 'web' },
    '0.4.0.2042.1.7': { name: 'OVCP', holder: 'web' },
    '0.4.0.2042.1.8': { name: 'IVCP', holder: 'web' },
  });

/** What a certificate's qcStatements say (EN 319 412-5). */
export interface QcFacts {
  /** QcCompliance: the issuer states this is an EU qualified certificate. */
  readonly compliance: boolean;
  /** QcSSCD: the issuer states the private key is in a QSCD. */
  readonly qscd: boolean;
  /** QcType values (known ones by name, others as their OID). Empty when the statement is absent. */
  readonly types: readonly (QcType | string)[];
  /** The statement ids, in order. */
  readonly statements: readonly string[];
}

/**
 * Decodes the extnValue of a qcStatements extension (RFC 3739 §3.2.6: `QCStatements ::= SEQUENCE OF QCStatement`,
 * `QCStatement ::= SEQUENCE { statementId OID, statementInfo ANY OPTIONAL }`; EN 319 412-5 §4.2.3:
 * `QcType ::= SEQUENCE OF OBJECT IDENTIFIER`); throws on a malformed one.
 */
export function parseQcStatements(der: Uint8Array): QcFacts {
  const statements = readQcStatements(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  const types: string[] = [];
  for (const s of statements) {
    if (s.id !== QC_TYPE_OID) continue;
    if (!s.info) throw new Error('QcType statement without its SEQUENCE OF OBJECT IDENTIFIER');
    for (const oid of readOidSequence(s.info)) types.push(QC_TYPES[oid as keyof typeof QC_TYPES] ?? oid);
  }
  const ids = statements.map((s) => s.id);
  return {
    compliance: ids.includes(QC_COMPLIANCE_OID),
    qscd: ids.includes(QC_SSCD_OID),
    types,
    statements: ids,
  };
}
