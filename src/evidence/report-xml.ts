import { DOMImplementation } from '@xmldom/xmldom';
import type { VerificationReport } from './types.js';
import type { TimestampFileReport } from './verify-token.js';
import { serializeXml, XML_NS } from '../xml/index.js';

const VR_NS = 'http://uri.etsi.org/19102/v1.2.1#';
const MAIN = {
  'TOTAL-PASSED': 'total-passed',
  'TOTAL-FAILED': 'total-failed',
  INDETERMINATE: 'indeterminate',
} as const;

/**
 * The verdict in the shape of an ETSI TS 119 102-2 validation report: ValidationReport /
 * SignatureValidationReport / ValidationTimeInfo (ValidationTime, BestSignatureTime) and
 * SignatureValidationStatus (MainIndication, SubIndication, as the URNs urn:etsi:019102:…). Only this
 * core is written (no validation objects, no signer VOReference), so it is not a complete TS 119 102-2
 * report and is not checked against its schema; the findings follow as AdditionalValidationReportData-
 * like text in our own `qx:Finding` elements.
 */
export function reportToXml(report: VerificationReport | TimestampFileReport): string {
  const doc = new DOMImplementation().createDocument(VR_NS, 'ValidationReport', null);
  const root = doc.documentElement;
  root.setAttributeNS(XML_NS.xmlns, 'xmlns:qx', 'urn:qerds-ap:validation-report:1');
  const e = (name: string, children: (Element | undefined)[] | string, ns = VR_NS): Element => {
    const el = doc.createElementNS(ns, name);
    if (typeof children === 'string') el.appendChild(doc.createTextNode(children));
    else for (const c of children) if (c) el.appendChild(c);
    return el;
  };
  const isToken = 'kind' in report;
  const validationTime = isToken ? report.validationTime : report.seal?.validationTime;
  const poe = isToken
    ? report.genTime
    : report.seal?.timestamp?.valid
      ? report.seal.timestamp.genTime
      : undefined;
  const sig = e('SignatureValidationReport', [
    validationTime &&
      e('ValidationTimeInfo', [
        e('ValidationTime', validationTime.toISOString()),
        poe &&
          e('BestSignatureTime', [
            e('POETime', poe.toISOString()),
            e('TypeOfProof', 'urn:etsi:019102:poetype:validation'),
          ]),
      ]),
    e('SignatureValidationStatus', [
      e('MainIndication', `urn:etsi:019102:mainindication:${MAIN[report.indication]}`),
      report.subIndication && e('SubIndication', `urn:etsi:019102:subindication:${report.subIndication}`),
    ]),
    ...report.findings
      .filter((f) => f.severity !== 'info')
      .map((f) => {
        const el = e('qx:Finding', f.message, 'urn:qerds-ap:validation-report:1');
        el.setAttribute('code', f.code);
        el.setAttribute('severity', f.severity);
        return el;
      }),
  ]);
  root.appendChild(sig);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(root)}`;
}
