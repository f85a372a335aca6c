import { X509Certificate } from 'node:crypto';
import type { VerificationReport } from './types.js';
import type { CadesFileReport, TimestampFileReport } from './verify-token.js';

/**
 * A verification report as JSON text: certificates as their names, serial, fingerprint and validity;
 * dates as ISO 8601; the canonical signed texts left out (they are the file itself). The shape is the
 * report's, so `indication`/`subIndication` are where a program looks.
 */
export function reportToJson(report: VerificationReport | TimestampFileReport | CadesFileReport): string {
  const {
    signedReferences: _refs,
    signedDocument: _doc,
    ...seal
  } = 'seal' in report && report.seal ? report.seal : ({} as Record<string, unknown>);
  const shown = 'kind' in report ? report : { kind: 'evidence', ...report, ...(report.seal ? { seal } : {}) };
  return JSON.stringify(shown, replacer, 2);
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // X509Certificate#toJSON (the PEM) runs before a replacer sees the value: look at the holder's own.
  const raw = this[key];
  if (raw instanceof X509Certificate) {
    const value = raw;
    return {
      subject: value.subject.replace(/\n/g, ', '),
      issuer: value.issuer.replace(/\n/g, ', '),
      serialNumber: value.serialNumber,
      fingerprint256: value.fingerprint256,
      validFrom: isoOr(value.validFrom),
      validTo: isoOr(value.validTo),
    };
  }
  if (typeof value === 'bigint') return value.toString();
  // Distinguished names inside messages on one line, as in the words (X509Certificate#subject has one RDN a line).
  if (key === 'message' && typeof value === 'string') return value.replace(/\s*\n\s*/g, ', ');
  return value;
}

/** A certificate's date as ISO 8601, or as written when it is no date (a damaged certificate must not stop the report). */
function isoOr(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}
