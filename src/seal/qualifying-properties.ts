import { QerdsError } from '../core/errors.js';
import { childElements, NS, requireChild, singleChild, textOf } from './xml.js';

/**
 * What the verifier needs from xades:QualifyingProperties (EN 319 132-1 §4.3):
 * ```xml
 * <xsd:complexType name="QualifyingPropertiesType"><xsd:sequence>
 *   <xsd:element name="SignedProperties" type="SignedPropertiesType" minOccurs="0"/>
 *   <xsd:element name="UnsignedProperties" type="UnsignedPropertiesType" minOccurs="0"/>
 * </xsd:sequence> <xsd:attribute name="Target" type="xsd:anyURI" use="required"/> …
 * ```
 */
export interface QualifyingPropertiesModel {
  readonly signedProperties: Element;
  readonly signingTime?: Date;
  /** SigningCertificateV2/Cert entries, signing certificate first. */
  readonly certs: readonly {
    readonly digestUri: string;
    readonly digest: Buffer;
    readonly issuerSerialV2?: Buffer;
  }[];
  /**
   * UnsignedSignatureProperties/SignatureTimeStamp entries, their form checked (one EncapsulatedTimeStamp, at
   * most one CanonicalizationMethod); the tokens themselves are decoded once, by readUnsignedProperties.
   */
  readonly signatureTimeStamps: readonly { readonly canonicalization?: string; readonly element: Element }[];
}

const XSD_DATETIME_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Read the QualifyingProperties of one signature; throws SEAL_MALFORMED / SEAL_XADES_* on structure errors. */
export function readQualifyingProperties(signature: Element): QualifyingPropertiesModel {
  const sigId = signature.getAttribute('Id');
  const all = childElements(signature, NS.ds, 'Object').flatMap((o) =>
    childElements(o, NS.xades, 'QualifyingProperties'),
  );
  if (all.length !== 1) {
    throw new QerdsError(
      'SEAL_XADES_MISSING',
      `expected one xades:QualifyingProperties, found ${all.length}`,
    );
  }
  const qp = all[0] as Element;
  if (!sigId || qp.getAttribute('Target') !== `#${sigId}`) {
    throw new QerdsError('SEAL_XADES_TARGET', 'QualifyingProperties/@Target does not name this ds:Signature');
  }
  const signedProperties = requireChild(qp, NS.xades, 'SignedProperties', 'SEAL_XADES_MISSING');
  const ssp = requireChild(signedProperties, NS.xades, 'SignedSignatureProperties', 'SEAL_XADES_MISSING');

  const st = singleChild(ssp, NS.xades, 'SigningTime', 'SEAL_MALFORMED');
  let signingTime: Date | undefined;
  if (st) {
    const text = textOf(st);
    if (!XSD_DATETIME_UTC.test(text))
      throw new QerdsError('SEAL_MALFORMED', `SigningTime is not an xs:dateTime with zone: ${text}`);
    signingTime = new Date(text);
  }

  const scv2 = singleChild(ssp, NS.xades, 'SigningCertificateV2', 'SEAL_MALFORMED');
  if (!scv2) {
    // EN 319 132-1 baseline: SigningCertificateV2 (the V1 element uses SHA-1-era IssuerSerial).
    throw new QerdsError('SEAL_SIGNING_CERT_MISSING', 'SignedSignatureProperties lacks SigningCertificateV2');
  }
  const certs = childElements(scv2, NS.xades, 'Cert').map((cert) => {
    const cd = requireChild(cert, NS.xades, 'CertDigest', 'SEAL_MALFORMED');
    const isv2 = singleChild(cert, NS.xades, 'IssuerSerialV2', 'SEAL_MALFORMED');
    return {
      digestUri: requireChild(cd, NS.ds, 'DigestMethod', 'SEAL_MALFORMED').getAttribute('Algorithm') ?? '',
      digest: Buffer.from(textOf(requireChild(cd, NS.ds, 'DigestValue', 'SEAL_MALFORMED')), 'base64'),
      issuerSerialV2: isv2 ? Buffer.from(textOf(isv2), 'base64') : undefined,
    };
  });
  if (certs.length === 0)
    throw new QerdsError('SEAL_SIGNING_CERT_MISSING', 'SigningCertificateV2 has no Cert');

  const usp = childElements(qp, NS.xades, 'UnsignedProperties').flatMap((u) =>
    childElements(u, NS.xades, 'UnsignedSignatureProperties'),
  );
  const signatureTimeStamps = usp
    .flatMap((u) => childElements(u, NS.xades, 'SignatureTimeStamp'))
    .map((ts) => {
      const c14n = singleChild(ts, NS.ds, 'CanonicalizationMethod', 'SEAL_MALFORMED');
      const encapsulated = childElements(ts, NS.xades, 'EncapsulatedTimeStamp');
      if (encapsulated.length !== 1) {
        throw new QerdsError(
          'SEAL_TIMESTAMP_UNSUPPORTED',
          'SignatureTimeStamp must hold one EncapsulatedTimeStamp',
        );
      }
      return { canonicalization: c14n?.getAttribute('Algorithm') ?? undefined, element: ts };
    });
  return { signedProperties, signingTime, certs, signatureTimeStamps };
}
