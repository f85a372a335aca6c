import { verifyTimestampToken } from '../timestamp/verify.js';
import { readUnsignedProperties } from './unsigned-properties.js';
import { childElements, descendants, NS, parseXmlStrict } from './xml.js';

/** What the re-timestamping job needs to know about one archived seal. */
export interface ArchiveRenewal {
  /** True when the seal needs a new ArchiveTimeStamp now (augmentXmlSeal with level B-LTA). */
  readonly due: boolean;
  /** notAfter of the newest timestamp's TSA certificate: after it, that timestamp proves nothing more. */
  readonly expires?: Date;
  readonly reason: string;
}

/**
 * Whether an archived XAdES seal must be re-timestamped: when its newest timestamp (the last
 * SignatureTimeStamp or ArchiveTimeStamp in document order) has a TSA certificate that expires within
 * `renewBeforeMs` of `now` (EN 319 102-1: once it has expired, nothing proves when that token was made).
 * A seal without timestamp is due (it cannot be made B-LTA, augmentXmlSeal will say so), a seal whose
 * newest token cannot be read is due too, so that the job reports it rather than skipping it.
 */
export async function archiveRenewal(
  xml: string,
  options: { readonly now: Date; readonly renewBeforeMs: number },
): Promise<ArchiveRenewal> {
  const doc = parseXmlStrict(xml, 'SEAL_MALFORMED');
  const qp = descendants(doc, NS.ds, 'Signature')
    .flatMap((s) => childElements(s, NS.ds, 'Object'))
    .flatMap((o) => childElements(o, NS.xades, 'QualifyingProperties'))[0];
  const newest = qp ? readUnsignedProperties(qp).timeStamps.at(-1) : undefined;
  if (!newest) return { due: true, reason: 'the seal has no timestamp' };
  const r = await verifyTimestampToken(newest.token);
  if (!r.tsaCertificate) return { due: true, reason: 'the newest timestamp cannot be read' };
  const expires = new Date(r.tsaCertificate.validTo);
  const due = expires.getTime() - options.now.getTime() <= options.renewBeforeMs;
  return {
    due,
    expires,
    reason: `the newest ${newest.kind === 'archive' ? 'ArchiveTimeStamp' : 'SignatureTimeStamp'}'s TSA certificate expires ${expires.toISOString()}`,
  };
}
