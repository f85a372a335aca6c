import { eventUri } from '../core/index.js';
import { indicationOf } from './indication.js';
import type { VerificationReport } from './types.js';

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
    lines.push(`event:      ${ev.event} (${eventUri(ev.event)})${ev.reason ? `, reason ${ev.reason.code}${ev.reason.details ? `: ${ev.reason.details}` : ''}` : ''}`);
    lines.push(`evidence:   ${ev.id} about message ${ev.messageId}`);
    lines.push(`event time: ${ev.eventTime.toISOString()}`);
    lines.push(`issuer:     ${ev.issuer.name} (${ev.issuer.id})`);
  } else {
    lines.push('evidence:   (not shown: the seal does not cover a readable evidence)');
  }
  const seal = report.seal;
  if (seal?.signer) lines.push(`signer:     ${oneLine(seal.signer.subject)}`);
  if (seal?.signingTime) lines.push(`signed at:  ${seal.signingTime.toISOString()} (claimed)`);
  if (seal?.timestamp) lines.push(`timestamp:  ${seal.timestamp.genTime.toISOString()}${seal.timestamp.valid ? '' : ' (NOT valid)'}`);
  else lines.push('timestamp:  none');
  if (seal && seal.level !== 'none') lines.push(`level:      XAdES-${seal.level}`);
  const other = report.findings.filter((f) => f !== decisive && f.severity !== 'info');
  for (const f of other) lines.push(`${f.severity}: ${f.code}: ${oneLine(f.message)}`);
  return lines.join('\n');
}

/** Distinguished names print one RDN a line: keep each report line one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ', ');
}
