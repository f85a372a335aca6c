import type { EvidenceData } from '../core/index.js';
import { sealXml, type XadesSealOptions } from '../seal/index.js';
import { buildEvidenceXml } from './build-evidence.js';
import type { EvidenceSealer } from './types.js';

/** Build the evidence XML and seal it. Stores nothing. */
export async function issueEvidence(data: EvidenceData, sealer: EvidenceSealer): Promise<{ id: string; xml: string }> {
  const xml = await sealer.seal(buildEvidenceXml(data));
  return { id: data.id, xml };
}

/** An EvidenceSealer that applies a XAdES enveloped seal (B-T when `options.tsa` is given). */
export function xadesSealer(options: XadesSealOptions): EvidenceSealer {
  return { seal: (xml) => sealXml(xml, options) };
}
