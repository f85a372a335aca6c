import { QerdsError } from '../core/errors.js';
import { derChildren, derOid, readDerElement, type DerElement } from '../pki/index.js';
import { derBoolean } from '../pki/x509-read.js';

/**
 * RFC 3161 §2.4.1, read by the TSA from the DER a client sent (no ASN.1 object graph, no library):
 *
 *   TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *     reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *     extensions [0] IMPLICIT Extensions OPTIONAL }
 *   MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
 *   AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 *
 * The request comes from anyone who can reach the TSA: the reader walks this fixed shape (no recursion the
 * input could drive), every length is bounded by its container (pki/der.ts), and the whole body must be the one
 * TimeStampReq. The rules (version, algorithm, policy, extensions) are the TSA's (authority.ts).
 */
export interface TimeStampReq {
  /** The version INTEGER's value when it fits a small number, else NaN (refused by the rules). */
  readonly version: number;
  readonly messageImprint: {
    readonly hashAlgorithm: string;
    /** The AlgorithmIdentifier's parameters element as received (NULL, when a client sends it). */
    readonly parameters?: Buffer;
    readonly hashedMessage: Buffer;
  };
  readonly reqPolicy?: string;
  /** The nonce INTEGER element as received: the TSA echoes it (RFC 3161 §2.4.2). */
  readonly nonce?: Buffer;
  readonly certReq: boolean;
  /** How many Extension elements the [0] field holds (0 when it is absent). */
  readonly extensionCount: number;
}

function malformed(what: string): QerdsError {
  return new QerdsError('TSA_BAD_REQUEST', what);
}

function expect(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

/** Read a DER TimeStampReq that must fill `der` exactly. Throws `TSA_BAD_REQUEST`, its message fit for the reply's statusString. */
export function readTimestampRequest(der: Buffer): TimeStampReq {
  let root: DerElement;
  try {
    root = readDerElement(der);
  } catch {
    throw malformed('the request is not a DER TimeStampReq');
  }
  // The TimeStampReq must be the whole body: octets after it would be granted a token they never were part of
  // (threat: a parser differential between this TSA and whatever logged or relayed the request).
  if (root.bytes.length !== der.length) throw malformed('octets follow the DER TimeStampReq');
  try {
    const parts = derChildren(expect(root, 0x30, 'a TimeStampReq SEQUENCE'));
    let i = 0;
    const versionElement = expect(parts[i++], 0x02, 'a version INTEGER');
    const version = versionElement.content.length === 1 ? versionElement.content[0]! : Number.NaN;
    const imprint = derChildren(expect(parts[i++], 0x30, 'a MessageImprint SEQUENCE'));
    if (imprint.length !== 2) throw malformed('MessageImprint needs two elements');
    const algorithm = derChildren(expect(imprint[0], 0x30, 'an AlgorithmIdentifier'));
    if (algorithm.length < 1 || algorithm.length > 2)
      throw malformed('AlgorithmIdentifier has 1 or 2 elements');
    const hashAlgorithm = derOid(expect(algorithm[0], 0x06, 'a hash algorithm OID'));
    const hashedMessage = expect(imprint[1], 0x04, 'a hashedMessage OCTET STRING').content;
    const reqPolicy = parts[i]?.tag === 0x06 ? derOid(parts[i++]!) : undefined;
    const nonce = parts[i]?.tag === 0x02 ? parts[i++]! : undefined;
    if (nonce && nonce.content.length === 0) throw malformed('empty nonce INTEGER');
    const certReq = parts[i]?.tag === 0x01 ? derBoolean(parts[i++]!) : false;
    const extensions = parts[i]?.tag === 0xa0 ? derChildren(parts[i++]!) : [];
    if (i !== parts.length) throw malformed('TimeStampReq has unexpected elements');
    return {
      version,
      messageImprint: {
        hashAlgorithm,
        ...(algorithm[1] ? { parameters: algorithm[1].bytes } : {}),
        hashedMessage,
      },
      ...(reqPolicy === undefined ? {} : { reqPolicy }),
      ...(nonce ? { nonce: nonce.bytes } : {}),
      certReq,
      extensionCount: extensions.length,
    };
  } catch (e) {
    if (e instanceof QerdsError && e.code === 'TSA_BAD_REQUEST') throw e;
    throw malformed('the request is not a DER TimeStampReq');
  }
}
