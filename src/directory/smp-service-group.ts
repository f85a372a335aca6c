import { QerdsError } from '../core/index.js';
import { SMP_NS } from './smp-metadata.js';
import { child, children, text } from './smp-xml.js';
import type { SmpIdentifier } from './types.js';

const SMP2_SERVICE_GROUP_NS = 'http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceGroup';

/**
 * The document types a participant registered, read from its service group (`GET /{participant}`):
 * - SMP 1.0 and Peppol SMP 1.x: `ServiceGroup/ServiceMetadataReferenceCollection/ServiceMetadataReference/@href`,
 *   each the URL of one ServiceMetadata, `…/{participant}/services/{document type}`; the document type is taken
 *   from the path after the participant (percent-decoded once), as peppol-commons' `getAllDocumentTypes` does;
 * - SMP 2.0: `ServiceGroup/ServiceReference/ID/@schemeID`.
 * A reference that names no document type of this participant is skipped.
 *
 * The hrefs are never followed: only the identifier is taken, and the metadata is asked of the same SMP. The service
 * group is not signed (SMP 1.0 §3.4 signs ServiceMetadata only), so an attacker on the path may hide registrations;
 * what is finally used is the signed metadata of the chosen one, checked to be about that document type.
 */
export function readServiceGroupDocumentTypes(doc: Document, participant: SmpIdentifier): SmpIdentifier[] {
  const root = doc.documentElement!;
  const ns = root.namespaceURI ?? '';
  if (root.localName !== 'ServiceGroup') throw malformed(`unexpected root element {${ns}}${root.localName}`);
  if (ns === SMP2_SERVICE_GROUP_NS) {
    return children(root, [SMP_NS.smp2Aggregate], 'ServiceReference').flatMap((reference) => {
      const id = child(reference, [SMP_NS.smp2Basic], 'ID');
      const value = text(id);
      return value === undefined ? [] : [{ scheme: id!.getAttribute('schemeID') || undefined, value }];
    });
  }
  if (ns !== SMP_NS.smp1 && ns !== SMP_NS.peppol)
    throw malformed(`unexpected root element {${ns}}${root.localName}`);
  const collection = child(root, [ns], 'ServiceMetadataReferenceCollection');
  const prefix =
    `/${participant.scheme ? `${participant.scheme}::` : ''}${participant.value}/services/`.toLowerCase();
  return (collection ? children(collection, [ns], 'ServiceMetadataReference') : []).flatMap((reference) => {
    let href: string;
    try {
      href = decodeURIComponent(reference.getAttribute('href') ?? '');
    } catch {
      return [];
    }
    const at = href.toLowerCase().indexOf(prefix);
    if (at < 0) return [];
    const id = href.slice(at + prefix.length);
    const split = id.indexOf('::');
    if (split === 0 || id.length === 0) return [];
    return [split < 0 ? { value: id } : { scheme: id.slice(0, split), value: id.slice(split + 2) }];
  });
}

function malformed(message: string): QerdsError {
  return new QerdsError('DIRECTORY_SMP_MALFORMED', `SMP service group: ${message}`);
}
