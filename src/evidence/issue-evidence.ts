import { QerdsError, xmlCharProblem, type EvidenceData } from '../core/index.js';
import { sealXml, type XadesSealOptions } from '../seal/index.js';
import { buildEvidenceDocument } from './build-evidence.js';
import type { EvidenceSealer } from './types.js';

/** Build the evidence XML and seal it. Stores nothing. */
export async function issueEvidence(
  data: EvidenceData,
  sealer: EvidenceSealer,
): Promise<{ id: string; xml: string }> {
  const { xml, doc } = buildEvidenceDocument(data);
  checkCharacters(xml);
  // The seal is assembled in the builder's DOM: it is what a strict parse of `xml` gives back by construction
  // (buildEvidenceDocument; test/evidence/built-dom.test.ts seals both ways and compares the bytes), so the text
  // is not parsed again (that parse was 44 % of a seal).
  return { id: data.id, xml: await sealer.seal(xml, doc) };
}

/**
 * The evidence as built must be XML that parses back. Threat: a string from a request carrying a character
 * XML 1.0 cannot hold (U+0000, a lone surrogate) that a serialiser writes out as it is; once sealed, the AP
 * would have issued proof that no verifier, ours included, can read. The DOM does not check characters, so
 * the text is checked; the markup is the builder's (escaped by construction).
 */
function checkCharacters(xml: string): void {
  const problem = xmlCharProblem(xml);
  if (problem) throw new QerdsError('EVIDENCE_INVALID_DATA', `evidence XML is not well-formed: ${problem}`);
}

/** An EvidenceSealer that applies a XAdES enveloped seal (B-T when `options.tsa` is given). */
export function xadesSealer(options: XadesSealOptions): EvidenceSealer {
  return { seal: (xml, parsed) => sealXml(xml, options, parsed) };
}
