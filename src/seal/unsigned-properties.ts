import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { childElements, NS, textOf } from './xml.js';
import { certificateFrom } from '../pki/parse-cache.js';

/** One time-stamp property (SignatureTimeStamp or xadesv141:ArchiveTimeStamp) as read. */
export interface TimeStampProperty {
  readonly kind: 'signature' | 'archive';
  readonly element: Element;
  readonly canonicalization?: string;
  readonly token: Buffer;
}

/**
 * What B-LT and B-LTA add to xades:UnsignedSignatureProperties (EN 319 132-1 §5.4, §5.5):
 * ```xml
 * <xsd:element name="CertificateValues" type="CertificateValuesType"/>  <!-- EncapsulatedX509Certificate* -->
 * <xsd:element name="RevocationValues" type="RevocationValuesType"/>    <!-- CRLValues/EncapsulatedCRLValue*, OCSPValues? -->
 * <xsd:element name="ArchiveTimeStamp" type="XAdESTimeStampType"/>      <!-- xadesv141 namespace -->
 * <xsd:element name="TimeStampValidationData" type="ValidationDataType"/> <!-- xadesv141: CertificateValues?, RevocationValues? -->
 * ```
 */
export interface UnsignedPropertiesModel {
  /** xades:UnsignedSignatureProperties, when present. */
  readonly element?: Element;
  /** Every time-stamp property, in document order. */
  readonly timeStamps: readonly TimeStampProperty[];
  /** Certificates of every CertificateValues (also inside TimeStampValidationData). */
  readonly certificates: readonly X509Certificate[];
  /** DER CRLs of every RevocationValues/CRLValues. */
  readonly crls: readonly Buffer[];
  readonly hasCertificateValues: boolean;
  readonly hasRevocationValues: boolean;
}

/** Read the unsigned signature properties of one xades:QualifyingProperties. Throws SEAL_MALFORMED. */
export function readUnsignedProperties(qualifyingProperties: Element): UnsignedPropertiesModel {
  const usps = childElements(qualifyingProperties, NS.xades, 'UnsignedProperties').flatMap((u) =>
    childElements(u, NS.xades, 'UnsignedSignatureProperties'),
  );
  if (usps.length > 1) throw new QerdsError('SEAL_MALFORMED', 'more than one UnsignedSignatureProperties');
  const element = usps[0];
  const timeStamps: TimeStampProperty[] = [];
  const values: Values = {
    certificates: [],
    crls: [],
    hasCertificateValues: false,
    hasRevocationValues: false,
  };
  if (element) {
    readValues(element, values);
    for (const tsvd of childElements(element, NS.xades141, 'TimeStampValidationData'))
      readValues(tsvd, values);
    for (const child of childElements(element)) {
      const kind =
        child.namespaceURI === NS.xades && child.localName === 'SignatureTimeStamp'
          ? 'signature'
          : child.namespaceURI === NS.xades141 && child.localName === 'ArchiveTimeStamp'
            ? 'archive'
            : undefined;
      if (!kind) continue;
      const c14n = childElements(child, NS.ds, 'CanonicalizationMethod');
      const encapsulated = childElements(child, NS.xades, 'EncapsulatedTimeStamp');
      if (c14n.length > 1 || encapsulated.length !== 1) {
        throw new QerdsError(
          'SEAL_TIMESTAMP_UNSUPPORTED',
          `${child.localName} must hold one EncapsulatedTimeStamp`,
        );
      }
      timeStamps.push({
        kind,
        element: child,
        canonicalization: c14n[0]?.getAttribute('Algorithm') ?? undefined,
        token: Buffer.from(textOf(encapsulated[0] as Element), 'base64'),
      });
    }
  }
  return { element, timeStamps, ...values };
}

interface Values {
  readonly certificates: X509Certificate[];
  readonly crls: Buffer[];
  hasCertificateValues: boolean;
  hasRevocationValues: boolean;
}

/** CertificateValues and RevocationValues of `container` (UnsignedSignatureProperties or TimeStampValidationData). */
function readValues(container: Element, values: Values): void {
  for (const cv of childElements(container, NS.xades, 'CertificateValues')) {
    values.hasCertificateValues = true;
    for (const c of childElements(cv, NS.xades, 'EncapsulatedX509Certificate'))
      values.certificates.push(parseCertificate(c));
  }
  for (const rv of childElements(container, NS.xades, 'RevocationValues')) {
    values.hasRevocationValues = true;
    for (const cv of childElements(rv, NS.xades, 'CRLValues')) {
      for (const c of childElements(cv, NS.xades, 'EncapsulatedCRLValue'))
        values.crls.push(Buffer.from(textOf(c), 'base64'));
    }
  }
}

function parseCertificate(element: Element): X509Certificate {
  try {
    return certificateFrom(Buffer.from(textOf(element), 'base64'));
  } catch (cause) {
    throw new QerdsError('SEAL_MALFORMED', 'an EncapsulatedX509Certificate is not a certificate', { cause });
  }
}
