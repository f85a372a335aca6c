import { QerdsError, xmlCharProblem, type EvidenceData } from '../core/index.js';
import { sealXml, type XadesSealOptions } from '../seal/index.js';
import { parseXmlStrict } from '../xml/index.js';
import { buildEvidenceXml } from './build-evidence.js';
import type { EvidenceSealer } from './types.js';

/** Build the evidence XML and seal it. Stores nothing. */
export async function issueEvidence(
  data: EvidenceData,
  sealer: EvidenceSealer,
): Promise<{ id: string; xml: string }> {
  const xml = buildEvidenceXml(data);
  // The check's parse is the one the seal is built in: the same evidence was parsed twice (≈1 ms a message).
  const parsed = checkWellFormed(xml);
  return { id: data.id, xml: await sealer.seal(xml, parsed) };
}

/**
 * The evidence as built must parse back before it is sealed. Threat: a string from a request carrying a
 * character XML 1.0 cannot hold (U+0000, a lone surrogate) that a serialiser writes out as it is; once
 * sealed, the AP would have issued proof that no verifier, ours included, can read. The DOM does not
 * check characters, so they are checked on the text first, then the strict parser reads the markup.
 */
function checkWellFormed(xml: string): Document {
  const problem = xmlCharProblem(xml);
  if (problem) throw new QerdsError('EVIDENCE_INVALID_DATA', `evidence XML is not well-formed: ${problem}`);
  return parseXmlStrict(xml, 'EVIDENCE_INVALID_DATA', { what: 'evidence XML as built' });
}

/** An EvidenceSealer that applies a XAdES enveloped seal (B-T when `options.tsa` is given). */
export function xadesSealer(options: XadesSealOptions): EvidenceSealer {
  return { seal: (xml, parsed) => sealXml(xml, options, parsed) };
}
