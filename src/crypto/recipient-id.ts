import { AsnConvert } from '@peculiar/asn1-schema';
import {
  IssuerAndSerialNumber,
  KeyAgreeRecipientIdentifier,
  RecipientIdentifier,
  RecipientKeyIdentifier,
} from '@peculiar/asn1-cms';
import { Name, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { x509 } from '../pki/x509.js';
import { arrayBuffer, toDer } from './asn1.js';
import { normaliseSerial, type RecipientCertId } from './recipient-cert.js';

/**
 * RFC 5652 §6.2.1:
 * ```asn1
 * RecipientIdentifier ::= CHOICE {
 *   issuerAndSerialNumber IssuerAndSerialNumber,
 *   subjectKeyIdentifier [0] SubjectKeyIdentifier }
 * ```
 */
export function recipientIdentifier(id: RecipientCertId, useSki: boolean): RecipientIdentifier {
  if (useSki && id.subjectKeyIdentifier) {
    return new RecipientIdentifier({
      subjectKeyIdentifier: new SubjectKeyIdentifier(arrayBuffer(id.subjectKeyIdentifier)),
    });
  }
  return new RecipientIdentifier({ issuerAndSerialNumber: issuerAndSerial(id) });
}

/**
 * RFC 5652 §6.2.2:
 * ```asn1
 * KeyAgreeRecipientIdentifier ::= CHOICE {
 *   issuerAndSerialNumber IssuerAndSerialNumber,
 *   rKeyId [0] IMPLICIT RecipientKeyIdentifier }
 * ```
 */
export function keyAgreeRecipientIdentifier(
  id: RecipientCertId,
  useSki: boolean,
): KeyAgreeRecipientIdentifier {
  if (useSki && id.subjectKeyIdentifier) {
    return new KeyAgreeRecipientIdentifier({
      rKeyId: new RecipientKeyIdentifier({
        subjectKeyIdentifier: new SubjectKeyIdentifier(arrayBuffer(id.subjectKeyIdentifier)),
      }),
    });
  }
  return new KeyAgreeRecipientIdentifier({ issuerAndSerialNumber: issuerAndSerial(id) });
}

function issuerAndSerial(id: RecipientCertId): IssuerAndSerialNumber {
  return new IssuerAndSerialNumber({
    issuer: AsnConvert.parse(id.issuerDer, Name),
    serialNumber: arrayBuffer(id.serial),
  });
}

/** Whether a RecipientIdentifier or KeyAgreeRecipientIdentifier names the certificate `id`. */
export function identifiesCertificate(
  rid: RecipientIdentifier | KeyAgreeRecipientIdentifier,
  id: RecipientCertId,
): boolean {
  const ski =
    'rKeyId' in rid && rid.rKeyId
      ? rid.rKeyId.subjectKeyIdentifier
      : 'subjectKeyIdentifier' in rid
        ? rid.subjectKeyIdentifier
        : undefined;
  if (ski)
    return id.subjectKeyIdentifier !== undefined && Buffer.from(ski.buffer).equals(id.subjectKeyIdentifier);
  const ias = rid.issuerAndSerialNumber;
  if (!ias) return false;
  return (
    toDer(ias.issuer).equals(id.issuerDer) &&
    normaliseSerial(Buffer.from(ias.serialNumber)).equals(normaliseSerial(id.serial))
  );
}

/** A recipient as a RecipientInfo names it, in words: for "encrypted for whom" when we hold no key. */
export interface CmsRecipientName {
  /** Issuer DN (RFC 4514 form) and serial number (hex), when named by issuerAndSerialNumber. */
  readonly issuer?: string;
  readonly serialNumber?: string;
  /** Hex subjectKeyIdentifier, when named by it. */
  readonly subjectKeyIdentifier?: string;
}

/** The name a RecipientIdentifier or KeyAgreeRecipientIdentifier gives. */
export function describeRecipient(rid: RecipientIdentifier | KeyAgreeRecipientIdentifier): CmsRecipientName {
  const ski =
    'rKeyId' in rid && rid.rKeyId
      ? rid.rKeyId.subjectKeyIdentifier
      : 'subjectKeyIdentifier' in rid
        ? rid.subjectKeyIdentifier
        : undefined;
  if (ski) return { subjectKeyIdentifier: Buffer.from(ski.buffer).toString('hex') };
  const ias = rid.issuerAndSerialNumber;
  if (!ias) return {};
  return {
    issuer: new x509.Name(arrayBuffer(toDer(ias.issuer))).toString(),
    serialNumber: normaliseSerial(Buffer.from(ias.serialNumber)).toString('hex'),
  };
}
