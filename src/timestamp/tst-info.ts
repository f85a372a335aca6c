import { QerdsError } from '../core/errors.js';
import { derChildren, derOid, readDerElement, type DerElement } from '../pki/der.js';
import { derBoolean, derTimeValue, nameToString } from '../pki/x509-read.js';

/**
 * RFC 3161 §2.4.2, read from the DER the TSA signed (no ASN.1 object graph, no library):
 *
 *   TSTInfo ::= SEQUENCE { version INTEGER { v1(1) }, policy TSAPolicyId, messageImprint MessageImprint,
 *     serialNumber INTEGER, genTime GeneralizedTime, accuracy Accuracy OPTIONAL, ordering BOOLEAN DEFAULT FALSE,
 *     nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL, extensions [1] IMPLICIT Extensions OPTIONAL }
 *   MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
 *   Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 *     micros [1] INTEGER (1..999) OPTIONAL }
 *
 * The module is IMPLICIT TAGS; `tsa` is a CHOICE and so stays explicitly tagged. Every reader below walks this
 * fixed shape: the input cannot make it recurse, and der.ts bounds every length by its container.
 */
export interface TstInfo {
  readonly version: number;
  readonly policy: string;
  readonly messageImprint: { readonly hashAlgorithm: string; readonly hashedMessage: Buffer };
  /** The serialNumber INTEGER's content octets. */
  readonly serialNumber: Buffer;
  readonly genTime: Date;
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number; readonly micros?: number };
  readonly ordering: boolean;
  /** The nonce INTEGER's content octets. */
  readonly nonce?: Buffer;
  readonly tsa?: TstGeneralName;
  /** The [1] extensions element, as received. */
  readonly extensions?: Buffer;
}

/** GeneralName (RFC 5280 §4.2.1.6): the forms a TSA name is compared in; any other form only as present. */
export interface TstGeneralName {
  /** directoryName [4]: the Name element (DER as received). */
  readonly directoryName?: Buffer;
  readonly rfc822Name?: string;
  readonly dNSName?: string;
  readonly uniformResourceIdentifier?: string;
}

function malformed(what: string): QerdsError {
  return new QerdsError('TSA_TOKEN_MALFORMED', `malformed timestamp token: TSTInfo ${what}`);
}

function expect(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) throw malformed(`needs ${what}`);
  return element;
}

/** Throws `TSA_TOKEN_MALFORMED` (or `PKI_DER_MALFORMED` from the DER reader) on anything but a TSTInfo. */
export function readTstInfo(der: Buffer): TstInfo {
  const root = readDerElement(der);
  if (root.bytes.length !== der.length) throw malformed('is followed by other data');
  const parts = derChildren(expect(root, 0x30, 'to be a SEQUENCE'));
  let i = 0;
  const version = smallInteger(expect(parts[i++], 0x02, 'a version INTEGER'), 'version');
  const policy = derOid(expect(parts[i++], 0x06, 'a policy OBJECT IDENTIFIER'));
  const imprint = derChildren(expect(parts[i++], 0x30, 'a MessageImprint SEQUENCE'));
  if (imprint.length !== 2) throw malformed('MessageImprint needs two elements');
  const hashAlgorithm = derOid(
    expect(derChildren(expect(imprint[0], 0x30, 'an AlgorithmIdentifier'))[0], 0x06, 'a hash algorithm OID'),
  );
  const hashedMessage = expect(imprint[1], 0x04, 'a hashedMessage OCTET STRING').content;
  const serialNumber = integerContent(expect(parts[i++], 0x02, 'a serialNumber INTEGER'));
  const genTime = derTimeValue(expect(parts[i++], 0x18, 'a genTime GeneralizedTime'));
  const accuracy = parts[i]?.tag === 0x30 ? readAccuracy(parts[i++]!) : undefined;
  const ordering = parts[i]?.tag === 0x01 ? derBoolean(parts[i++]!) : false;
  const nonce = parts[i]?.tag === 0x02 ? integerContent(parts[i++]!) : undefined;
  const tsa = parts[i]?.tag === 0xa0 ? readGeneralName(parts[i++]!) : undefined;
  const extensions = parts[i]?.tag === 0xa1 ? parts[i++]!.bytes : undefined;
  if (i !== parts.length) throw malformed('has unexpected elements');
  return {
    version,
    policy,
    messageImprint: { hashAlgorithm, hashedMessage },
    serialNumber,
    genTime,
    ...(accuracy ? { accuracy } : {}),
    ordering,
    ...(nonce ? { nonce } : {}),
    ...(tsa ? { tsa } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

function readAccuracy(element: DerElement): NonNullable<TstInfo['accuracy']> {
  const parts = derChildren(element);
  let i = 0;
  const seconds = parts[i]?.tag === 0x02 ? smallInteger(parts[i++]!, 'accuracy seconds') : undefined;
  const millis = parts[i]?.tag === 0x80 ? smallInteger(parts[i++]!, 'accuracy millis') : undefined;
  const micros = parts[i]?.tag === 0x81 ? smallInteger(parts[i++]!, 'accuracy micros') : undefined;
  if (i !== parts.length) throw malformed('Accuracy has unexpected elements');
  return {
    ...(seconds === undefined ? {} : { seconds }),
    ...(millis === undefined ? {} : { millis }),
    ...(micros === undefined ? {} : { micros }),
  };
}

/** `tsa [0] GeneralName`: the [0] wraps the CHOICE's own (context-tagged) element. */
function readGeneralName(wrapper: DerElement): TstGeneralName {
  const [name, extra] = derChildren(wrapper);
  if (!name || extra) throw malformed('tsa needs exactly one GeneralName');
  // IA5String under an IMPLICIT tag.
  const text = (): string => name.content.toString('latin1');
  switch (name.tag) {
    case 0x81:
      return { rfc822Name: text() };
    case 0x82:
      return { dNSName: text() };
    case 0x86:
      return { uniformResourceIdentifier: text() };
    case 0xa4: {
      const [directoryName, more] = derChildren(name);
      if (!directoryName || more || directoryName.tag !== 0x30)
        throw malformed('tsa directoryName needs one Name');
      // Read through once here, so that a name the reports print later is known to be well formed.
      nameToString(directoryName);
      return { directoryName: directoryName.bytes };
    }
    default:
      // otherName, x400Address, ediPartyName, iPAddress, registeredID: present, not compared here.
      return {};
  }
}

function integerContent(element: DerElement): Buffer {
  if (element.content.length === 0) throw malformed('has an empty INTEGER');
  return element.content;
}

function smallInteger(element: DerElement, what: string): number {
  const c = element.content;
  if (c.length === 0 || c.length > 6 || (c[0]! & 0x80) !== 0) throw malformed(`${what} out of range`);
  return c.reduce((v, b) => v * 256 + b, 0);
}
