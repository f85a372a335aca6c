import { derObjectIdentifier, derTlv, derUnsignedInteger } from '../pki/index.js';

const VERSION_1 = Buffer.from([0x02, 0x01, 0x01]);

/** What the embedded TSA puts into a TSTInfo; the parts taken from the request are its DER elements. */
export interface TstInfoFields {
  readonly policy: string;
  /** The DER MessageImprint (the request's, RFC 3161 §2.4.2: "MUST have the same value"). */
  readonly messageImprint: Buffer;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  readonly accuracy: { readonly seconds?: number; readonly millis?: number };
  /** The request's nonce INTEGER element, echoed as received. */
  readonly nonce?: Buffer;
  /** The TSA's certificate subject, a DER Name, put in `tsa` as a directoryName. */
  readonly tsaName?: Buffer;
}

/**
 * The DER TSTInfo (RFC 3161 §2.4.2), written straight from its fields (no ASN.1 object graph):
 *
 *   TSTInfo ::= SEQUENCE { version INTEGER { v1(1) }, policy TSAPolicyId, messageImprint MessageImprint,
 *     serialNumber INTEGER, genTime GeneralizedTime, accuracy Accuracy OPTIONAL, ordering BOOLEAN DEFAULT FALSE,
 *     nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL, extensions [1] IMPLICIT Extensions OPTIONAL }
 *   Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 *     micros [1] INTEGER (1..999) OPTIONAL }
 *
 * ordering is FALSE, the DEFAULT, so DER leaves it out. Accuracy always carries seconds (0 when none is set) and
 * millis when set, the form this TSA has always issued. `tsa` is a CHOICE, so [0] stays explicit around
 * directoryName [4] (itself explicit: Name is a CHOICE too).
 */
export function writeTstInfo(fields: TstInfoFields): Buffer {
  const { accuracy } = fields;
  const millis = accuracy.millis ? [derTlv(0x80, integerContent(accuracy.millis))] : [];
  return derTlv(
    0x30,
    VERSION_1,
    derObjectIdentifier(fields.policy),
    fields.messageImprint,
    derUnsignedInteger(fields.serialNumber),
    generalizedTime(fields.genTime),
    derTlv(0x30, derTlv(0x02, integerContent(accuracy.seconds ?? 0)), ...millis),
    ...(fields.nonce ? [fields.nonce] : []),
    ...(fields.tsaName ? [derTlv(0xa0, derTlv(0xa4, fields.tsaName))] : []),
  );
}

function integerContent(value: number): Buffer {
  // One octet below 128 (the usual accuracy), as the bigint path writes it.
  if (Number.isInteger(value) && value >= 0 && value < 0x80) return Buffer.from([value]);
  return derUnsignedInteger(BigInt(value)).subarray(2);
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z` (X.690 §11.7): UTC, fractional seconds to the millisecond with
 * trailing zeros removed, no fraction at all on a whole second.
 */
export function generalizedTime(date: Date): Buffer {
  const ms = date.getUTCMilliseconds();
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  const text =
    String(date.getUTCFullYear()).padStart(4, '0') +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    `${fraction}Z`;
  return derTlv(0x18, Buffer.from(text, 'latin1'));
}
