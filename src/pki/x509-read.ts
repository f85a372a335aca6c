import { QerdsError } from '../core/errors.js';
import { derChildren, derOid, readDerElement, type DerElement } from './der.js';

/*
 * Reading the parts of certificates and CRLs that verification needs straight from their DER (RFC 5280), with
 * the minimal reader of der.ts: no ASN.1 object graphs, no library to load. Every reader walks a fixed
 * structure (no recursion driven by the input), so nesting depth cannot grow with hostile input; lengths are
 * bounded by der.ts (≤ 4 length octets, never past the enclosing element).
 */

function malformed(what: string): QerdsError {
  return new QerdsError('PKI_DER_MALFORMED', `malformed DER: ${what}`);
}

function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

/** One Extension (RFC 5280 §4.1): `SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`. */
export interface DerExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue's content octets: the DER of the extension's own type. */
  readonly value: Buffer;
}

/** The TBSCertificate's fields by position, past the optional `[0] EXPLICIT version`. */
function tbsCertificateFields(certificateDer: Buffer): DerElement[] {
  const certificate = expectTag(readDerElement(certificateDer), 0x30, 'a Certificate SEQUENCE');
  if (certificate.bytes.length !== certificateDer.length) throw malformed('data after the Certificate');
  const tbs = expectTag(derChildren(certificate)[0], 0x30, 'a TBSCertificate SEQUENCE');
  const fields = derChildren(tbs);
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

/**
 * A certificate's extensions, in order. TBSCertificate: serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL, subjectUniqueID [2] IMPLICIT OPTIONAL,
 * extensions [3] EXPLICIT Extensions OPTIONAL.
 */
export function certificateExtensions(certificateDer: Buffer): DerExtension[] {
  const fields = tbsCertificateFields(certificateDer);
  const wrapper = fields.slice(6).find((f) => f.tag === 0xa3);
  if (!wrapper) return [];
  const [list, extra] = derChildren(wrapper);
  if (extra) throw malformed('more than one element in [3] extensions');
  return derChildren(expectTag(list, 0x30, 'Extensions SEQUENCE')).map(readExtension);
}

function readExtension(element: DerElement): DerExtension {
  const parts = derChildren(expectTag(element, 0x30, 'an Extension SEQUENCE'));
  const oid = derOid(expectTag(parts[0], 0x06, 'extnID'));
  const hasCritical = parts[1]?.tag === 0x01;
  const critical = hasCritical ? derBoolean(parts[1]!) : false;
  const value = expectTag(parts[hasCritical ? 2 : 1], 0x04, 'extnValue OCTET STRING');
  if (parts.length !== (hasCritical ? 3 : 2)) throw malformed('extra elements in an Extension');
  return { oid, critical, value: value.content };
}

/** The subject Name's DER element. */
export function certificateSubject(certificateDer: Buffer): DerElement {
  return expectTag(tbsCertificateFields(certificateDer)[4], 0x30, 'subject Name');
}

export function derBoolean(element: DerElement): boolean {
  if (element.tag !== 0x01 || element.content.length !== 1) throw malformed('expected a BOOLEAN');
  return element.content[0] !== 0;
}

/** keyUsage (RFC 5280 §4.2.1.3) `BIT STRING` as flags: named bit n is `1 << n` (key-usage.ts). */
export function readKeyUsage(value: Buffer): number {
  const bits = expectTag(readWhole(value), 0x03, 'keyUsage BIT STRING').content;
  const unused = bits[0];
  if (unused === undefined || unused > 7 || (bits.length === 1 && unused !== 0))
    throw malformed('BIT STRING unused-bits octet');
  let flags = 0;
  const count = (bits.length - 1) * 8 - unused;
  for (let n = 0; n < count && n < 31; n++) if ((bits[1 + (n >> 3)]! << (n & 7)) & 0x80) flags |= 1 << n;
  return flags;
}

/** basicConstraints (RFC 5280 §4.2.1.9): `SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }`. */
export function readBasicConstraints(value: Buffer): { ca: boolean; pathLength?: number } {
  const parts = derChildren(expectTag(readWhole(value), 0x30, 'BasicConstraints SEQUENCE'));
  let i = 0;
  const ca = parts[i]?.tag === 0x01 ? derBoolean(parts[i++]!) : false;
  const length = parts[i]?.tag === 0x02 ? smallInteger(parts[i++]!) : undefined;
  if (i !== parts.length) throw malformed('extra elements in BasicConstraints');
  return length === undefined ? { ca } : { ca, pathLength: length };
}

/** extKeyUsage (RFC 5280 §4.2.1.12): `SEQUENCE SIZE (1..MAX) OF KeyPurposeId`. */
export function readExtendedKeyUsage(value: Buffer): string[] {
  return derChildren(expectTag(readWhole(value), 0x30, 'ExtKeyUsageSyntax SEQUENCE')).map(derOid);
}

/** subjectKeyIdentifier (RFC 5280 §4.2.1.2): `OCTET STRING`, as lower-case hex. */
export function readSubjectKeyIdentifier(value: Buffer): string {
  return expectTag(readWhole(value), 0x04, 'KeyIdentifier OCTET STRING').content.toString('hex');
}

/** certificatePolicies (RFC 5280 §4.2.1.4): the policyIdentifier of each PolicyInformation, in order. */
export function readCertificatePolicies(value: Buffer): string[] {
  return derChildren(expectTag(readWhole(value), 0x30, 'certificatePolicies SEQUENCE')).map((info) =>
    derOid(expectTag(derChildren(expectTag(info, 0x30, 'PolicyInformation'))[0], 0x06, 'policyIdentifier')),
  );
}

/**
 * RFC 3739 §3.2.6 `QCStatements ::= SEQUENCE OF QCStatement`, `QCStatement ::= SEQUENCE { statementId OID,
 * statementInfo ANY OPTIONAL }`: each statement's id and its info's DER.
 */
export function readQcStatements(value: Buffer): { id: string; info?: Buffer }[] {
  return derChildren(expectTag(readWhole(value), 0x30, 'QCStatements SEQUENCE')).map((statement) => {
    const parts = derChildren(expectTag(statement, 0x30, 'QCStatement SEQUENCE'));
    if (parts.length > 2) throw malformed('extra elements in a QCStatement');
    const id = derOid(expectTag(parts[0], 0x06, 'statementId'));
    return parts[1] ? { id, info: parts[1].bytes } : { id };
  });
}

/** `SEQUENCE OF OBJECT IDENTIFIER` (e.g. EN 319 412-5 QcType). */
export function readOidSequence(der: Buffer): string[] {
  return derChildren(expectTag(readWhole(der), 0x30, 'SEQUENCE OF OBJECT IDENTIFIER')).map(derOid);
}

/** Exactly one element filling `der`. */
function readWhole(der: Buffer): DerElement {
  const element = readDerElement(der);
  if (element.bytes.length !== der.length) throw malformed('data after the element');
  return element;
}

function smallInteger(element: DerElement): number {
  const c = element.content;
  if (c.length === 0 || c.length > 6 || (c[0]! & 0x80) !== 0) throw malformed('INTEGER out of range');
  return c.reduce((v, b) => v * 256 + b, 0);
}

/** The short names of attribute types in a Name's string form (those @peculiar/x509's Name used, so reports read alike). */
const NAME_TYPES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
};

/** A Name's attributes: `SEQUENCE OF RelativeDistinguishedName`, each `SET OF AttributeTypeAndValue { type, value }`. */
export function nameAttributes(name: DerElement): { type: string; value: DerElement }[][] {
  return derChildren(expectTag(name, 0x30, 'Name SEQUENCE')).map((rdn) =>
    derChildren(expectTag(rdn, 0x31, 'RelativeDistinguishedName SET')).map((atv) => {
      const [type, value, extra] = derChildren(expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      if (!value || extra) throw malformed('AttributeTypeAndValue needs a type and a value');
      return { type: derOid(type!), value };
    }),
  );
}

/**
 * The text of a directory string (RFC 5280 DirectoryString, and IA5String), or undefined for any other type.
 * TeletexString is read as Latin-1 (what certificates put there in practice; T.61's own repertoire is not).
 */
export function directoryString(element: DerElement): string | undefined {
  const c = element.content;
  switch (element.tag) {
    case 0x0c: // UTF8String
      return c.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString
      return c.toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16 big-endian
      if (c.length % 2) throw malformed('BMPString of odd length');
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32 big-endian
      if (c.length % 4) throw malformed('UniversalString length not a multiple of 4');
      let text = '';
      for (let i = 0; i < c.length; i += 4) {
        const point = c.readUInt32BE(i);
        if (point > 0x10ffff) throw malformed('UniversalString code point out of range');
        text += String.fromCodePoint(point);
      }
      return text;
    }
    default:
      return undefined;
  }
}

/**
 * A Name as text: RDNs joined by ", ", multi-valued ones by "+", `TYPE=value` with RFC 4514 escapes, other
 * value types as `#` and the hex of their DER — the form @peculiar/x509's `Name.toString()` gave, so the
 * names in reports and CRL issuer keys are unchanged.
 */
export function nameToString(name: DerElement): string {
  return nameAttributes(name)
    .map((rdn) =>
      rdn
        .map(({ type, value }) => {
          const text = directoryString(value);
          return `${NAME_TYPES[type] ?? type}=${text === undefined ? `#${value.bytes.toString('hex')}` : escapeValue(text)}`;
        })
        .join('+'),
    )
    .join(', ');
}

function escapeValue(text: string): string {
  return text
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')
    .replace(/([\r\n\t])/, (c) => `\\${Buffer.from(c, 'utf8').toString('hex').toUpperCase()}`);
}

/** The first value of attribute `oid` in a Name, as text (undefined when absent or not a string type). */
export function nameField(name: DerElement, oid: string): string | undefined {
  for (const rdn of nameAttributes(name))
    for (const { type, value } of rdn) if (type === oid) return directoryString(value);
  return undefined;
}

/** UTCTime (years 1950–2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime, `Z` only, optional fraction. */
export function derTimeValue(element: DerElement): Date {
  const text = element.content.toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (element.tag === 0x17) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
    if (!m) throw malformed('UTCTime');
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (element.tag === 0x18) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d{1,9})?Z$/.exec(text);
    if (!m) throw malformed('GeneralizedTime');
    year = Number(m[1]);
  } else throw malformed('expected a UTCTime or GeneralizedTime');
  const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(m![i]));
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const date = new Date(Date.UTC(year, month! - 1, day, hour, minute, second, ms));
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month! - 1 ||
    date.getUTCDate() !== day ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  )
    throw malformed('time out of range');
  return date;
}

/** What a CRL's TBSCertList says (RFC 5280 §5.1.2), its extensions aside. */
export interface CrlFields {
  readonly issuer: DerElement;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Serial (hex of the INTEGER's content octets) and revocationDate of each revokedCertificates entry. */
  readonly revoked: readonly { readonly serial: string; readonly date: Date }[];
}

/**
 * TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name, thisUpdate Time,
 * nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 * revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 */
export function readTbsCertList(tbs: DerElement): CrlFields {
  const parts = derChildren(expectTag(tbs, 0x30, 'TBSCertList SEQUENCE'));
  let i = parts[0]?.tag === 0x02 ? 1 : 0;
  expectTag(parts[i++], 0x30, 'signature AlgorithmIdentifier');
  const issuer = expectTag(parts[i++], 0x30, 'issuer Name');
  const thisUpdateEl = parts[i++];
  if (!thisUpdateEl) throw malformed('TBSCertList has no thisUpdate');
  const thisUpdate = derTimeValue(thisUpdateEl);
  const next = parts[i];
  const nextUpdate = next && (next.tag === 0x17 || next.tag === 0x18) ? derTimeValue(parts[i++]!) : undefined;
  const revoked: { serial: string; date: Date }[] = [];
  if (parts[i]?.tag === 0x30) {
    for (const entry of derChildren(parts[i++]!)) {
      const [serial, date] = derChildren(expectTag(entry, 0x30, 'revokedCertificates entry'));
      if (!date) throw malformed('revoked entry needs a serial and a date');
      revoked.push({
        serial: expectTag(serial, 0x02, 'userCertificate INTEGER').content.toString('hex'),
        date: derTimeValue(date),
      });
    }
  }
  if (parts[i]?.tag === 0xa0) i++;
  if (i !== parts.length) throw malformed('unexpected elements in TBSCertList');
  return { issuer, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}), revoked };
}
