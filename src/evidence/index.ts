export { buildEvidenceXml } from './build-evidence.js';
export { parseEvidenceXml } from './parse-evidence.js';
export { issueEvidence, xadesSealer } from './issue-evidence.js';
export { verifyEvidence } from './verify-evidence.js';
export { formatReport } from './format-report.js';
export { evidenceErrors } from './errors.js';
export { EVIDENCE_NS, EVIDENCE_VERSION, EVIDENCE_ELEMENT_ORDER, QERDS_EXT_NS } from './names.js';
export type { EvidenceSealer, Indication, SubIndication, VerifyEvidenceOptions, VerificationReport } from './types.js';
