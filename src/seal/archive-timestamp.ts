import { childElements, excC14n, NS } from './xml.js';

/**
 * The octets an xadesv141:ArchiveTimeStamp covers, EN 319 132-1 §5.5.2.2 (ds:Reference elements not
 * distributed), all canonicalized with exclusive C14N (the CanonicalizationMethod we write), in order:
 *  1. the data of each ds:Reference of SignedInfo, in SignedInfo order, as its digest was computed
 *     (after the reference's transforms: `referenceOctets`);
 *  2. ds:SignedInfo;  3. ds:SignatureValue;  4. ds:KeyInfo, when present;
 *  5. each child of xades:UnsignedSignatureProperties that comes before this ArchiveTimeStamp, in
 *     document order (SignatureTimeStamp, CertificateValues, RevocationValues, TimeStampValidationData,
 *     earlier ArchiveTimeStamps…); `before` undefined means all of them (a new one goes last);
 *  6. each ds:Object other than the one holding xades:QualifyingProperties.
 * Because every earlier unsigned property is covered, a later archive timestamp also protects the
 * earlier timestamps and the validation data they need: that chain is what keeps the evidence
 * verifiable after a certificate's expiry.
 */
export function archiveTimestampInput(
  signature: Element,
  referenceOctets: readonly string[],
  unsignedSignatureProperties: Element | undefined,
  before: Element | undefined,
): Buffer {
  const parts: string[] = [...referenceOctets];
  for (const name of ['SignedInfo', 'SignatureValue', 'KeyInfo']) {
    for (const e of childElements(signature, NS.ds, name)) parts.push(excC14n(e));
  }
  if (unsignedSignatureProperties) {
    for (const child of childElements(unsignedSignatureProperties)) {
      if (child === before) break;
      parts.push(excC14n(child));
    }
  }
  for (const object of childElements(signature, NS.ds, 'Object')) {
    if (childElements(object, NS.xades, 'QualifyingProperties').length === 0) parts.push(excC14n(object));
  }
  return Buffer.from(parts.join(''), 'utf8');
}
