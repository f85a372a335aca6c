/*
 * The one XML toolkit: strict parsing and serialization on the one DOM (@xmldom/xmldom), and the one
 * canonicalizer (xml-crypto's, with the W3C orderings made exact). Used by as4, seal, evidence and directory.
 */
export {
  parseXmlStrict,
  serializedAttributeValue,
  serializedText,
  serializeXml,
  type ParseXmlOptions,
} from './parse.js';
export {
  escapeAttribute as canonicalAttributeEscape,
  escapeText as canonicalTextEscape,
} from './exc-c14n.js';
export {
  canonicalAttributeValue,
  canonicalElement,
  canonicalText,
  type CanonicalAttribute,
} from './canonical-text.js';
export { DEFAULT_XML_LIMITS, type XmlLimits } from './limits.js';
export {
  canonicalize,
  canonicalizeDocument,
  canonicalizeInclusive,
  compareCodePoints,
  ExclusiveC14n,
  InclusiveC14n,
} from './c14n.js';
export { c14nMethodOf, canonicalizeSubtree, type C14nMethod } from './c14n-nodeset.js';
export {
  ancestorNamespaces,
  childElements,
  descendants,
  hasProcessingInstruction,
  isElement,
  textOf,
} from './dom.js';
export {
  ALGORITHM_URI,
  XML_NS,
  EXC_C14N,
  C14N,
  ENVELOPED_SIGNATURE,
  TSL_NS,
  PEPPOL_SMP1_NS,
} from './namespaces.js';
