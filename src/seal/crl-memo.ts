import { parseCrlDer, type ParsedCrl } from '../pki/index.js';

/**
 * What a B-LT seal needs of each CRL it embeds (its parse, its base64 text, the DER of a PEM text), remembered from
 * one seal to the next: a seal reads the CRLs at every seal (the refresh replaces them while the AP runs), and a CA's
 * CRL can be hundreds of KB, which cost a SHA-256 (the content key of parseCrlDer), a base64 encoding and, for PEM, a
 * decoding, at every seal.
 *
 * The keys never let another CRL reuse a result: a PEM text is its own key (strings cannot change); a DER buffer is
 * looked up by identity and the entry holds a copy of its octets, compared in full before it is used (a buffer
 * changed in place, or another CRL, is read afresh).
 */
interface RememberedCrl {
  readonly der: Buffer;
  readonly parsed: ParsedCrl;
  base64?: string;
}

const byBuffer = new WeakMap<Buffer, RememberedCrl>();
/** A PEM text → the DER buffers handed out for it, and copies of their octets to check them against. */
const byPemText = new Map<string, { readonly ders: readonly Buffer[]; readonly copies: readonly Buffer[] }>();
/** PEM texts remembered; more are not expected (the CA CRLs of one AP), and the map is emptied beyond. */
const MAX_PEM_TEXTS = 16;

function remembered(der: Buffer): RememberedCrl {
  const hit = byBuffer.get(der);
  if (hit !== undefined && hit.der.equals(der)) return hit;
  const entry: RememberedCrl = { der: Buffer.from(der), parsed: parseCrlDer(der) };
  byBuffer.set(der, entry);
  return entry;
}

/** parseCrlDer(der), without the content hash when this very buffer, unchanged, was read before. */
export function rememberedCrlParse(der: Buffer): ParsedCrl {
  return remembered(der).parsed;
}

/** der.toString('base64'), likewise remembered. */
export function rememberedCrlBase64(der: Buffer): string {
  const entry = remembered(der);
  entry.base64 ??= entry.der.toString('base64');
  return entry.base64;
}

/**
 * The DER CRLs of a PEM text as `decode` reads them: the same Buffer objects for the same text, as long as they still
 * hold the octets decoded (else decoded afresh).
 */
export function rememberedPemCrls(text: string, decode: (text: string) => Buffer[]): readonly Buffer[] {
  const hit = byPemText.get(text);
  if (hit !== undefined && hit.ders.every((der, i) => der.equals(hit.copies[i]!))) return hit.ders;
  const ders = Object.freeze(decode(text));
  if (byPemText.size >= MAX_PEM_TEXTS) byPemText.clear();
  byPemText.set(text, { ders, copies: ders.map((der) => Buffer.from(der)) });
  return ders;
}
