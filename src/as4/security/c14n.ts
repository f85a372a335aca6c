/** The canonicalizer is the xml module's (exclusive C14N with the W3C orderings made exact); re-exported for as4. */
export { canonicalize, canonicalizeDocument, compareCodePoints } from '../../xml/index.js';
