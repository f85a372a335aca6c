/**
 * Structural limits, counted by the reader (well-formed.ts) as it reads, so a document beyond them is refused
 * before its cost grows with it. Threat: an unauthenticated peer sends a document that is well-formed but costly
 * (millions of elements or attributes, or nesting deep enough that every recursive walk of the DOM overflows the
 * stack); parsing is synchronous, so its cost blocks the event loop for every other client.
 */
export interface XmlLimits {
  /** Largest document, in UTF-16 code units of the string handed in (≈ bytes for ASCII). @defaultValue 67108864 (64 Mi) */
  readonly maxChars?: number;
  /** Deepest element nesting (the root is depth 1). @defaultValue 256 (libxml2's default parser limit) */
  readonly maxDepth?: number;
  /** Most elements in the document. @defaultValue 250000 */
  readonly maxElements?: number;
  /** Most attributes (namespace declarations included) on one element. @defaultValue 256 */
  readonly maxAttributesPerElement?: number;
  /** Most attributes in the whole document. @defaultValue 1000000 */
  readonly maxAttributes?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlLimits> = Object.freeze({
  maxChars: 64 * 1024 * 1024,
  maxDepth: 256,
  maxElements: 250_000,
  maxAttributesPerElement: 256,
  maxAttributes: 1_000_000,
});
