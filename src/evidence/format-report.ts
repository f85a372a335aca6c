import { eventUri } from '../core/index.js';
import { OID } from '../pki/oids.js';
import { indicationOf } from './indication.js';
import type { VerificationReport } from './types.js';
import type { CadesFileReport, TimestampFileReport } from './verify-token.js';
import type { CadesSignerCheck } from '../seal/cades-verify.js';

/**
 * A verdict for people: the first line is `VALID`, or `INVALID (<EN 319 102-1 indication>): <reason>`;
 * an INDETERMINATE result is not proof, so it is not valid either. Then what the evidence says and
 * who sealed it when.
 */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [];
  const decisive = indicationOf(report.findings).decisive;
  const reason = `${report.subIndication ?? 'UNKNOWN'}${decisive ? ` — ${oneLine(decisive.message)}` : ''}`;
  if (report.indication === 'TOTAL-PASSED') lines.push('VALID');
  else lines.push(`INVALID (${report.indication}): ${reason}`);

  const ev = report.evidence;
  if (ev) {
    lines.push(
      `event:      ${ev.event} (${eventUri(ev.event)})${ev.reason ? `, reason ${ev.reason.code}${ev.reason.details ? `: ${ev.reason.details}` : ''}` : ''}`,
    );
    lines.push(`evidence:   ${ev.id} about message ${ev.messageId}`);
    lines.push(`event time: ${ev.eventTime.toISOString()}`);
    lines.push(
      `issuer:     ${ev.issuer.name} (${ev.issuer.id})${report.issuerBinding ? `, bound to the seal by ${report.issuerBinding === 'directory-pin' ? 'a directory pin' : 'its organizationIdentifier'}` : ''}`,
    );
  } else {
    lines.push('evidence:   (not shown: the seal does not cover a readable evidence)');
  }
  const seal = report.seal;
  if (seal?.signer) lines.push(`signer:     ${oneLine(seal.signer.subject)}`);
  const qc = report.sealCertificate;
  if (qc) {
    const said = [
      ...(qc.types.length ? [`QcType ${qc.types.join(', ')}`] : []),
      ...(qc.qscd ? ['key in a QSCD'] : []),
      ...(qc.policies.length ? [`policy ${qc.policies.join(', ')}`] : []),
      ...(qc.malformed ? ['qcStatements unreadable'] : []),
    ];
    lines.push(
      `seal cert:  ${qc.qualified ? 'states it is EU qualified (QcCompliance)' : 'not stated qualified (no QcCompliance)'}${said.length ? `; ${said.join('; ')}` : ''}`,
    );
  }
  if (seal?.signingTime) lines.push(`signed at:  ${seal.signingTime.toISOString()} (claimed)`);
  if (seal?.timestamp)
    lines.push(
      `timestamp:  ${seal.timestamp.genTime.toISOString()}${seal.timestamp.valid ? '' : ' (NOT valid)'}`,
    );
  else lines.push('timestamp:  none');
  for (const t of seal?.timestamps ?? []) {
    if (t.kind !== 'archive') continue;
    lines.push(`archive ts: ${t.genTime?.toISOString() ?? '(unreadable)'}${t.valid ? '' : ' (NOT valid)'}`);
  }
  if (seal && seal.level !== 'none') lines.push(`level:      XAdES-${seal.level}`);
  if (seal?.validationTime) lines.push(`validated:  as of ${seal.validationTime.toISOString()}`);
  const q = report.qualified;
  if (q) {
    const show = (s: typeof q.seal) =>
      !s
        ? 'not checked'
        : `${s.qualified ? 'QUALIFIED' : 'NOT qualified'}${s.serviceType ? ` (${s.serviceType} "${s.serviceName}", ${s.status ?? 'no status'})` : ' (not in the list)'}`;
    lines.push(`qualified:  seal ${show(q.seal)}; TSA ${show(q.tsa)}; as of ${q.at.toISOString()}`);
  }
  const other = report.findings.filter((f) => f !== decisive && f.severity !== 'info');
  for (const f of other) lines.push(`${f.severity}: ${f.code}: ${oneLine(f.message)}`);
  return lines.join('\n');
}

/** Distinguished names print one RDN a line: keep each report line one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ', ');
}

/** The stand-alone timestamp verdict, in the same words as {@link formatReport}. */
export function formatTimestampReport(report: TimestampFileReport): string {
  const decisive = indicationOf(report.findings).decisive;
  const lines = [
    report.indication === 'TOTAL-PASSED'
      ? 'VALID'
      : `INVALID (${report.indication}): ${report.subIndication ?? 'UNKNOWN'}${decisive ? ` — ${oneLine(decisive.message)}` : ''}`,
    `file:       RFC 3161 timestamp token${report.ber ? ' (BER)' : ''}`,
  ];
  if (report.genTime) lines.push(`time:       ${iso(report.genTime)}`);
  if (report.tsa) lines.push(`TSA:        ${oneLine(report.tsa.subject)}`);
  if (report.policy) lines.push(`policy:     ${report.policy}`);
  if (report.serialNumber) lines.push(`serial:     ${report.serialNumber}`);
  if (report.imprint)
    lines.push(
      `imprint:    ${report.imprint.algorithm} ${report.imprint.digest}${report.contentChecked ? ' (matches the content)' : ' (no content given: not checked)'}`,
    );
  lines.push(`validated:  as of ${report.validationTime.toISOString()}`);
  for (const f of report.findings.filter((f) => f !== decisive && f.severity !== 'info'))
    lines.push(`${f.severity}: ${f.code}: ${oneLine(f.message)}`);
  return lines.join('\n');
}

const CMS_ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  [OID.rsaEncryption]: 'RSA PKCS#1 v1.5',
  [OID.rsassaPss]: 'RSASSA-PSS',
  [OID.sha256WithRSAEncryption]: 'sha256WithRSAEncryption',
  [OID.sha384WithRSAEncryption]: 'sha384WithRSAEncryption',
  [OID.sha512WithRSAEncryption]: 'sha512WithRSAEncryption',
  [OID.ecPublicKey]: 'ECDSA',
  [OID.ecdsaWithSHA256]: 'ecdsa-with-SHA256',
  [OID.ecdsaWithSHA384]: 'ecdsa-with-SHA384',
  [OID.ecdsaWithSHA512]: 'ecdsa-with-SHA512',
  [OID.ed25519]: 'Ed25519',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

/** A CMS / CAdES verdict (EN 319 122-1), in the same words as {@link formatReport}. */
export function formatCadesReport(report: CadesFileReport): string {
  const decisive = indicationOf(report.findings).decisive;
  const name = (oid?: string) => (oid ? (CMS_ALGORITHM_NAMES[oid] ?? oid) : '?');
  const lines = [
    report.indication === 'TOTAL-PASSED'
      ? 'VALID'
      : `INVALID (${report.indication}): ${report.subIndication ?? 'UNKNOWN'}${decisive ? ` — ${oneLine(decisive.message)}` : ''}`,
    `file:       ${report.level === 'CMS' ? 'CMS signature (no CAdES signing-certificate attribute)' : `${report.level} signature (EN 319 122-1)`}, ${report.attached ? 'attached (content inside)' : 'detached'}${report.ber ? ', BER' : ''}`,
  ];
  if (report.signer) lines.push(`signer:     ${oneLine(report.signer.subject)}`);
  if (report.signer) lines.push(`issued by:  ${oneLine(report.signer.issuer)}`);
  if (report.signatureAlgorithm)
    lines.push(`algorithm:  ${name(report.signatureAlgorithm)} over ${name(report.digestAlgorithm)}`);
  if (report.signingTime) lines.push(`signed at:  ${iso(report.signingTime)} (claimed)`);
  if (report.timestamp)
    lines.push(
      `timestamp:  ${iso(report.timestamp.genTime)}${report.timestamp.valid ? '' : ' (NOT valid)'}${report.timestamp.tsa ? ` by ${oneLine(report.timestamp.tsa.subject)}` : ''}`,
    );
  else lines.push('timestamp:  none');
  lines.push(
    `content:    ${report.contentChecked ? 'matches the message-digest' : report.attached ? 'not checked' : 'not given (--document): not checked'}`,
  );
  if (report.signedAttributes.length) lines.push(`signed:     ${report.signedAttributes.join(', ')}`);
  if (report.unsignedAttributes.length) lines.push(`unsigned:   ${report.unsignedAttributes.join(', ')}`);
  // Every signature of the document (parallel signers, countersignatures), each with its own verdict.
  const each = (c: CadesSignerCheck): void => {
    const own = indicationOf([...c.findings]);
    lines.push(
      `${c.label}: ${own.indication === 'TOTAL-PASSED' ? 'VALID' : `${own.indication}${own.subIndication ? `/${own.subIndication}` : ''}`}${c.signer ? ` — ${oneLine(c.signer.subject)}` : ''}`,
    );
    c.countersignatures.forEach(each);
  };
  report.signers?.forEach(each);
  lines.push(`validated:  as of ${report.validationTime.toISOString()}`);
  for (const f of report.findings.filter((f) => f !== decisive && f.severity !== 'info'))
    lines.push(`${f.severity}: ${f.code}: ${oneLine(f.message)}`);
  return lines.join('\n');
}

/** A date from a file may be out of range (month 13 in a forged token): shown as such, never thrown on. */
function iso(date: Date): string {
  return Number.isNaN(date.getTime()) ? '(invalid date)' : date.toISOString();
}
