import { ancestorNamespaces, ExclusiveC14n } from '../../src/xml/index.js';

/**
 * The exclusive canonicalizer the code base used before src/xml/exc-c14n.ts: xml-crypto's, with the W3C orderings
 * (ExclusiveC14n) and the `#default` token of a PrefixList on the apex. Kept as the oracle exc-c14n.test.ts
 * compares the new one with.
 *
 * Exclusive C14N that also honours the `#default` token of an InclusiveNamespaces PrefixList on the apex element. */
class ApexExclusiveC14n extends ExclusiveC14n {
  constructor(
    private readonly apex: Element,
    private readonly inclusiveDefault: string | undefined,
  ) {
    super();
  }

  override renderNs(
    node: Element,
    prefixesInScope: unknown,
    defaultNs: string,
    defaultNsForPrefix: unknown,
    inclusiveNamespacesPrefixList: string[],
  ): { rendered: string; newDefaultNs: string } {
    if (node === this.apex && this.inclusiveDefault && node.prefix) {
      // #default in the PrefixList: the in-scope default namespace is output on the apex although the
      // prefixed apex does not use it (Exc-C14N §3: treated as under inclusive C14N).
      const inner = super.renderNs(
        node,
        prefixesInScope,
        this.inclusiveDefault,
        defaultNsForPrefix,
        inclusiveNamespacesPrefixList,
      );
      const decl = ` xmlns="${this.inclusiveDefault.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}"`;
      return { rendered: decl + inner.rendered, newDefaultNs: this.inclusiveDefault };
    }
    return super.renderNs(
      node,
      prefixesInScope,
      defaultNs,
      defaultNsForPrefix,
      inclusiveNamespacesPrefixList,
    );
  }
}

/**
 * (Was src/xml canonicalize.) Exclusive XML Canonicalization 1.0 (without comments) of `element` as a document subset: its subtree
 * in its context, with the InclusiveNamespaces PrefixList `inclusivePrefixes` (`#default` for the
 * default namespace). The one canonicalizer of the code base (WS-Security, XAdES, SwA attachments).
 * The document is not modified: xml-crypto writes the declarations of listed prefixes onto the apex, so
 * with a PrefixList a detached deep clone is canonicalized.
 */
export function canonicalizeWithXmlCrypto(
  element: Element,
  inclusivePrefixes: readonly string[] = [],
): string {
  const scope = ancestorNamespaces(element);
  // The apex's own declarations win over its ancestors' (xml-crypto would overwrite them on the clone).
  for (let i = 0; i < element.attributes.length; i++) {
    const a = element.attributes.item(i);
    if (a?.prefix === 'xmlns') scope.delete(a.localName ?? '');
  }
  const ownDefault = element.getAttributeNode('xmlns')?.value;
  const inScopeDefault = ownDefault ?? scope.get('') ?? '';
  const wantsDefault = inclusivePrefixes.includes('#default') && inScopeDefault !== '';
  const prefixes = inclusivePrefixes.filter((p) => p !== '#default' && p !== '');
  // Without listed prefixes xml-crypto changes nothing, and cloning a whole document per digest is not free.
  const apex = prefixes.length > 0 ? (element.cloneNode(true) as Element) : element;
  const c14n = new ApexExclusiveC14n(apex, wantsDefault ? inScopeDefault : undefined);
  return c14n.process(apex, {
    // A non-empty list stops xml-crypto from reading a CanonicalizationMethod child of the apex.
    inclusiveNamespacesPrefixList: prefixes.length > 0 ? prefixes : [' '],
    ancestorNamespaces: [...scope.entries()]
      .filter(([p]) => p !== '')
      .map(([prefix, namespaceURI]) => ({ prefix, namespaceURI })),
    defaultNs: '',
    defaultNsForPrefix: {},
  });
}
