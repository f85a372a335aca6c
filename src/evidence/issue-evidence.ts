import { QerdsError, xmlCharProblem, type EvidenceData } from '../core/index.js';
import { sealWrittenXml, sealXml, type XadesSealOptions } from '../seal/index.js';
import { writeEvidence } from './build-evidence.js';
import type { EvidenceSealer } from './types.js';

/** Build the evidence XML and seal it. Stores nothing. */
export async function issueEvidence(
  data: EvidenceData,
  sealer: EvidenceSealer,
): Promise<{ id: string; xml: string }> {
  const written = writeEvidence(data);
  checkCharacters(written.xml);
  // The builder wrote the text with its canonical form (writeEvidence): a sealer that works on text seals it without
  // parsing it or building a DOM (sealWrittenXml; test/evidence/written-seal-oracle.test.ts compares the sealed bytes
  // with sealXml's).
  return { id: data.id, xml: await sealer.seal(written.xml, written) };
}

/**
 * The evidence as built must be XML that parses back. Threat: a string from a request carrying a character
 * XML 1.0 cannot hold (U+0000, a lone surrogate) that the builder writes out as it is; once sealed, the AP
 * would have issued proof that no verifier, ours included, can read. The builder does not check characters, so
 * the text is checked; the markup is the builder's (escaped by construction).
 */
function checkCharacters(xml: string): void {
  // Most evidence has no surrogate at all: one character class settles it without the lookarounds.
  if (!SUSPECT_CHAR.test(xml) || !NOT_XML_CHAR.test(xml)) return;
  const problem = xmlCharProblem(xml);
  if (problem) throw new QerdsError('EVIDENCE_INVALID_DATA', `evidence XML is not well-formed: ${problem}`);
}

/**
 * What xmlCharProblem refuses, as one regular expression (a quick test; xmlCharProblem then says where): C0 controls
 * but TAB, LF, CR; U+FFFE, U+FFFF; a surrogate that is not half of a pair. SUSPECT_CHAR: the same without the
 * pairing of surrogates, which every text NOT_XML_CHAR matches also matches.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what XML 1.0 cannot carry
const SUSPECT_CHAR = /[\0-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what XML 1.0 cannot carry
  /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * An EvidenceSealer that applies a XAdES enveloped seal (B-T when `options.tsa` is given): to the written evidence
 * without a DOM (sealWrittenXml), or, with a `parentXPath` or for a text alone, by parsing it (sealXml).
 */
export function xadesSealer(options: XadesSealOptions): EvidenceSealer {
  return {
    seal: (xml, written) =>
      written && !options.parentXPath ? sealWrittenXml(written, options) : sealXml(xml, options),
  };
}
