import { QerdsError, type QerdsErrorCode } from '../../core/index.js';
import {
  childElements,
  hasProcessingInstruction,
  isElement,
  parseXmlStrict,
  type XmlLimits,
} from '../../xml/index.js';
import { NS } from '../model/namespaces.js';

/**
 * Parse XML strictly (xml/: parser warnings and errors fatal, DTDs refused: the threat is entity expansion and
 * external entity resolution; SOAP 1.2 also forbids DTDs). Processing instructions are left to
 * `assertNoProcessingInstructions`, since an SwA XML attachment may carry them. `limits` (xml/limits.ts) are
 * checked before parsing (an envelope over them is EBMS:0009 InvalidHeader, like any other unparsable header). Failures throw QerdsError(`errorCode`).
 */
export function parseXml(
  xml: string,
  errorCode: QerdsErrorCode = 'AS4_EBMS_0009',
  what = 'SOAP envelope',
  limits?: XmlLimits,
): Document {
  return parseXmlStrict(xml, errorCode, {
    what,
    allowProcessingInstructions: true,
    ...(limits ? { limits } : {}),
  });
}

/** Refuse processing instructions anywhere but the XML declaration (SOAP 1.2 Part 1 §5). */
export function assertNoProcessingInstructions(
  doc: Document,
  errorCode: QerdsErrorCode = 'AS4_EBMS_0009',
): void {
  if (hasProcessingInstruction(doc))
    throw new QerdsError(errorCode, 'processing instructions are not allowed in a SOAP message');
}

export function isNs(el: Element, ns: string, localName: string): boolean {
  return el.namespaceURI === ns && el.localName === localName;
}

/** The single child `ns:localName`; more than one, or none when required, throws QerdsError(code). */
export function onlyChild(
  parent: Element,
  ns: string,
  localName: string,
  code: QerdsErrorCode,
  required: true,
): Element;
export function onlyChild(
  parent: Element,
  ns: string,
  localName: string,
  code: QerdsErrorCode,
  required: false,
): Element | undefined;
export function onlyChild(
  parent: Element,
  ns: string,
  localName: string,
  code: QerdsErrorCode,
  required: boolean,
): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) throw new QerdsError(code, `more than one ${localName} in ${parent.localName}`);
  if (required && found.length === 0)
    throw new QerdsError(code, `${localName} missing in ${parent.localName}`);
  return found[0];
}

/** All elements of the document in document order (root included). */
export function allElements(doc: Document): Element[] {
  const out: Element[] = [];
  const walk = (node: Node): void => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (isElement(n)) {
        out.push(n);
        walk(n);
      }
    }
  };
  walk(doc);
  return out;
}

/** The `wsu:Id` or unqualified `Id` of an element (WS-Security accepts both). */
export function idOf(el: Element): string | undefined {
  const wsu = el.getAttributeNS(NS.wsu, 'Id');
  if (wsu) return wsu;
  const plain = el.getAttributeNode('Id');
  return plain && !plain.namespaceURI ? plain.value : undefined;
}
