import { createHash, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import type { TsaClient } from '../core/ports.js';
import { crlCovers } from '../pki/index.js';
import { rememberedCrlBase64, rememberedCrlParse, rememberedPemCrls } from './crl-memo.js';
import { verifyTimestampToken } from '../timestamp/verify.js';
import { archiveTimestampInput } from './archive-timestamp.js';
import { checkReference, duplicateIds, readReference } from './references.js';
import { readUnsignedProperties } from './unsigned-properties.js';
import {
  childElements,
  descendants,
  el,
  EXC_C14N,
  NS,
  parseXmlStrict,
  requireChild,
  serializeXml,
} from './xml.js';

/** Options of {@link augmentXmlSeal}. */
export interface AugmentXmlSealOptions {
  /** B-LT: embed validation data. B-LTA: also add an ArchiveTimeStamp (again, when there is one). */
  readonly level: 'B-LT' | 'B-LTA';
  /** The TSA of the ArchiveTimeStamp; required for B-LTA. */
  readonly tsa?: TsaClient;
  /**
   * CRLs to embed in RevocationValues (DER, or PEM with one or more X509 CRL blocks). Only those that cover the
   * signing time (the SignatureTimeStamp's genTime, see crlCovers) are embedded; when CRLs are given and none
   * does, the augmentation is refused (SEAL_REVOCATION_STALE). @defaultValue []
   */
  readonly crls?: readonly (Buffer | string)[];
  /**
   * Certificates to embed in CertificateValues: the CA and intermediate certificates of the signer's and
   * the TSAs' paths (those not already in KeyInfo). @defaultValue []
   */
  readonly certificates?: readonly X509Certificate[];
}

/**
 * Raise an existing XAdES B-T seal (made by sealXml) to B-LT or B-LTA (EN 319 132-1 §5.4, §5.5), adding
 * to xades:UnsignedSignatureProperties only, outside SignedInfo, so the signature itself (and any
 * verifier of it, such as xmlsec1) is unaffected:
 * - the first time: xades:CertificateValues and xades:RevocationValues (validation data for the path);
 * - re-archiving (an ArchiveTimeStamp is already there): the new validation data go in a
 *   xadesv141:TimeStampValidationData, so that the previous archive timestamp stays covered as it was;
 * - B-LTA: then a xadesv141:ArchiveTimeStamp over the signature and everything before it.
 * This is what the re-timestamping job calls before the newest timestamp's TSA certificate expires.
 * Refuses (SEAL_AUGMENT_NOT_B_T, SEAL_DIGEST_MISMATCH) a seal that has no SignatureTimeStamp or whose
 * references no longer match: timestamping a broken signature would vouch for it.
 */
export async function augmentXmlSeal(xml: string, options: AugmentXmlSealOptions): Promise<string> {
  if (options.level === 'B-LTA' && !options.tsa)
    throw new QerdsError('SEAL_AUGMENT_NOT_B_T', 'B-LTA needs a TSA for the ArchiveTimeStamp');
  const doc = parseXmlStrict(xml, 'SEAL_MALFORMED');
  const signature = onlySignature(doc);
  const usp = unsignedSignatureProperties(signature);
  const before = readUnsignedProperties(qualifyingProperties(signature));
  if (!before.timeStamps.some((t) => t.kind === 'signature')) {
    throw new QerdsError('SEAL_AUGMENT_NOT_B_T', 'the seal has no SignatureTimeStamp: make it B-T first');
  }
  const crls = await freshCrls(
    options.crls ?? [],
    before.timeStamps.find((t) => t.kind === 'signature')!.token,
  );
  const sigId = signature.getAttribute('Id') ?? 'sig';
  const values = (): Element[] => validationValues(doc, options.certificates ?? [], crls);
  const hasArchive = before.timeStamps.some((t) => t.kind === 'archive');
  if (!before.hasCertificateValues && !hasArchive) {
    for (const v of values()) usp.appendChild(v);
  } else if (crls.length > 0 || options.certificates?.length) {
    usp.appendChild(
      el(doc, NS.xades141, 'xadesv141:TimeStampValidationData', { 'xmlns:xadesv141': NS.xades141 }, values()),
    );
  }
  if (options.level === 'B-LT') return serializeXml(doc);

  // The archive timestamp is computed over the document as a reader will parse it: serialize first.
  const text = serializeXml(doc);
  const reparsed = parseXmlStrict(text, 'SEAL_MALFORMED');
  const sig = onlySignature(reparsed);
  const refs = childElements(
    requireChild(sig, NS.ds, 'SignedInfo', 'SEAL_MALFORMED'),
    NS.ds,
    'Reference',
  ).map((r) =>
    checkReference(readReference(r), { doc: reparsed, xml: text, signatureIndex: 0, allowUnsafe: false }),
  );
  if (refs.some((r) => !r.matched))
    throw new QerdsError(
      'SEAL_DIGEST_MISMATCH',
      'a reference of the seal no longer matches: not archiving it',
    );
  const reparsedUsp = unsignedSignatureProperties(sig);
  const data = archiveTimestampInput(
    sig,
    refs.map((r) => r.canonical),
    reparsedUsp,
    undefined,
  );
  const token = await (options.tsa as TsaClient).timestamp({
    algorithm: 'sha256',
    digest: createHash('sha256').update(data).digest(),
  });
  const n = before.timeStamps.filter((t) => t.kind === 'archive').length + 1;
  const id = `${sigId}-archts-${n}`;
  if (
    duplicateIds(reparsed).includes(id) ||
    descendants(reparsed, NS.xades141, 'ArchiveTimeStamp').some((a) => a.getAttribute('Id') === id)
  ) {
    throw new QerdsError('SEAL_DUPLICATE_ID', `the document already has an element with Id ${id}`);
  }
  reparsedUsp.appendChild(
    el(reparsed, NS.xades141, 'xadesv141:ArchiveTimeStamp', { 'xmlns:xadesv141': NS.xades141, Id: id }, [
      el(reparsed, NS.ds, 'ds:CanonicalizationMethod', { Algorithm: EXC_C14N }),
      el(reparsed, NS.xades, 'xades:EncapsulatedTimeStamp', {}, token.der.toString('base64')),
    ]),
  );
  return serializeXml(reparsed);
}

function onlySignature(doc: Document): Element {
  const signatures = descendants(doc, NS.ds, 'Signature');
  if (signatures.length !== 1)
    throw new QerdsError('SEAL_MULTIPLE_SIGNATURES', `expected one ds:Signature, found ${signatures.length}`);
  return signatures[0] as Element;
}

function qualifyingProperties(signature: Element): Element {
  const all = childElements(signature, NS.ds, 'Object').flatMap((o) =>
    childElements(o, NS.xades, 'QualifyingProperties'),
  );
  if (all.length !== 1)
    throw new QerdsError(
      'SEAL_XADES_MISSING',
      `expected one xades:QualifyingProperties, found ${all.length}`,
    );
  return all[0] as Element;
}

function unsignedSignatureProperties(signature: Element): Element {
  const up = childElements(qualifyingProperties(signature), NS.xades, 'UnsignedProperties')[0];
  const usp = up ? childElements(up, NS.xades, 'UnsignedSignatureProperties')[0] : undefined;
  if (!usp)
    throw new QerdsError(
      'SEAL_AUGMENT_NOT_B_T',
      'the seal has no UnsignedSignatureProperties: make it B-T first',
    );
  return usp;
}

/**
 * The DER CRLs among `given` that tell the status at the signing time (the SignatureTimeStamp's genTime).
 * Threat: a B-LT evidence carrying only a CRL that had expired before the signing looks complete but
 * proves nothing about revocation at signing; refuse rather than embed it.
 */
async function freshCrls(given: readonly (Buffer | string)[], signatureTimeStamp: Buffer): Promise<Buffer[]> {
  if (given.length === 0) return [];
  const signedAt = (await verifyTimestampToken(signatureTimeStamp)).genTime;
  if (!signedAt) throw new QerdsError('SEAL_TIMESTAMP_MALFORMED', 'the SignatureTimeStamp cannot be read');
  return crlsCovering(given, signedAt);
}

/** The DER CRLs among `given` that cover `signedAt` (crlCovers); SEAL_REVOCATION_STALE when CRLs are given and none does. */
export function crlsCovering(given: readonly (Buffer | string)[], signedAt: Date): Buffer[] {
  const all = given.flatMap(crlDers);
  if (all.length === 0) return [];
  // Each is one DER CertificateList already (crlDers): read as such, not searched for PEM blocks again.
  const fresh = all.filter((der) => crlCovers(rememberedCrlParse(der), signedAt));
  if (fresh.length === 0) {
    throw new QerdsError(
      'SEAL_REVOCATION_STALE',
      `no CRL given covers the signing time ${signedAt.toISOString()} (each was due for renewal before it): refresh the CRLs`,
    );
  }
  return fresh;
}

/** B-LT validation data: xades:CertificateValues and xades:RevocationValues, for `doc`'s UnsignedSignatureProperties. */
export function validationValues(
  doc: Document,
  certificates: readonly X509Certificate[],
  crls: readonly Buffer[],
): Element[] {
  const x = (name: string, children: Element[] | string = []) =>
    el(doc, NS.xades, `xades:${name}`, {}, children);
  return [
    x(
      'CertificateValues',
      certificates.map((c) => x('EncapsulatedX509Certificate', c.raw.toString('base64'))),
    ),
    x('RevocationValues', [
      x(
        'CRLValues',
        crls.map((d) => x('EncapsulatedCRLValue', rememberedCrlBase64(d))),
      ),
    ]),
  ];
}

const PEM_CRL_BEGIN = '-----BEGIN X509 CRL-----';

/** DER of every CRL in a DER buffer or a PEM text. */
function crlDers(crl: Buffer | string): Buffer[] {
  // A buffer without the PEM marker is one DER CRL. B-LT seals read the CRLs at every seal, and a CA's CRL can be
  // hundreds of KB: a byte search settles it, where a latin1 copy searched by the regex below cost a millisecond.
  if (typeof crl !== 'string' && crl.indexOf(PEM_CRL_BEGIN) === -1) return [crl];
  const text = typeof crl === 'string' ? crl : crl.toString('latin1');
  // The same text gives the same DER buffers at each seal (crl-memo.ts), so that their parse and base64 are reused.
  const ders = rememberedPemCrls(text, pemCrlDers);
  if (ders.length > 0) return [...ders];
  if (typeof crl === 'string')
    throw new QerdsError('SEAL_MALFORMED', 'a CRL given as text holds no X509 CRL PEM block');
  return [crl];
}

/** The DER of each X509 CRL PEM block of `text` (none: empty). */
function pemCrlDers(text: string): Buffer[] {
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g) ?? [];
  return blocks.map((b) => Buffer.from(b.replace(/-----[^-]+-----|\s+/g, ''), 'base64'));
}
