import type { X509Certificate } from 'node:crypto';
import {
  packUserMessage,
  receiptXml,
  type Attachment,
  type PackedForSending,
  type ReceiptInput,
  type SignedDigest,
  type SoapVersion,
  type UserMessage,
} from '../as4/index.js';
import { systemClock, uuidIdGenerator } from '../core/index.js';
import { certificateFrom } from '../pki/parse-cache.js';
import type { SigningIdentity } from '../pki/index.js';
import { parseXmlStrict, serializeXml, type XmlLimits } from '../xml/index.js';

/**
 * The AS4 work the pool's threads do for the main thread, as plain data both ways: packing a UserMessage
 * (compress, sign, encrypt, MIME) for the sender, and building and signing the receipt of a verified UserMessage
 * for the receiver. Each job runs the very function the main thread runs inline (packUserMessage, receiptXml).
 *
 * Keys cross as they are: a KeyObject and an X509Certificate are cloned by postMessage (node shares the native key
 * and certificate), so an identity loaded from a file, a passphrase-protected one or one built in memory all work,
 * and the thread reads no key file for AS4. Buffers are copied: a Buffer that is a view of a larger ArrayBuffer is
 * cut to its own bytes first (structured clone copies the whole ArrayBuffer behind a view).
 */

/** A packing job: packUserMessage's input with the attachments' octets as owned Uint8Arrays. */
export interface PackJob {
  readonly message: UserMessage;
  readonly attachments: readonly { contentId: string; contentType: string; body: Uint8Array }[];
  readonly identity: SigningIdentity;
  readonly compress: boolean;
  readonly encryptFor?: X509Certificate;
}

/** A packed message as it comes back: the MIME body (transferred, not copied) and the signed digests. */
export interface PackedJob {
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly references: readonly SignedDigest[];
}

/** A receipt job: the received envelope and the references to acknowledge as text, the id and time drawn. */
export interface ReceiptJob {
  readonly envelopeXml: string;
  readonly xmlLimits: XmlLimits;
  /** Each acknowledged ds:Reference with its element serialized (self-contained: xmldom declares its prefixes). */
  readonly references: readonly (SignedDigest & { readonly xml: string })[];
  readonly identity: SigningIdentity;
  readonly soapVersion: SoapVersion;
  /** The receipt's eb:Timestamp and the id its eb:MessageId is made of, drawn by the main thread's clock and ids. */
  readonly at: Date;
  readonly id: string;
}

/** Main thread: the job of packUserMessage's input (attachments in memory only: a stream cannot cross). */
export function packJobOf(input: Parameters<typeof packUserMessage>[0]): PackJob {
  return {
    message: input.message,
    attachments: input.attachments.map((a) => {
      if (a.stream) throw new Error(`attachment ${a.contentId} is streamed: it is packed where it is sent`);
      return { contentId: a.contentId, contentType: a.contentType, body: owned(a.body) };
    }),
    identity: input.identity,
    compress: input.compress === true,
    ...(input.encryptFor ? { encryptFor: input.encryptFor } : {}),
  };
}

/** Thread: packs as the main thread would (packUserMessage); the body in an ArrayBuffer of its own, to transfer. */
export function runPackJob(job: PackJob): PackedJob {
  const attachments: Attachment[] = job.attachments.map((a) => ({
    contentId: a.contentId,
    contentType: a.contentType,
    body: Buffer.from(a.body.buffer, a.body.byteOffset, a.body.byteLength),
  }));
  const packed = packUserMessage({
    message: job.message,
    attachments,
    identity: sameIdentity(job.identity),
    compress: job.compress,
    ...(job.encryptFor ? { encryptFor: certificateFrom(job.encryptFor.raw) } : {}),
  });
  return {
    contentType: packed.contentType,
    body: owned(packed.body),
    references: packed.references.map(digestOf),
  };
}

/** Main thread: the packed message of a job's answer. */
export function packedOf(result: PackedJob): PackedForSending {
  return {
    contentType: result.contentType,
    body: Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength),
    references: result.references,
  };
}

/** Main thread: the job of the handler's receipt input; the clock and the id generator are read here. */
export function receiptJobOf(input: ReceiptInput): ReceiptJob {
  const { clock, idGenerator } = input.options;
  return {
    envelopeXml: input.envelopeXml,
    xmlLimits: input.xmlLimits,
    references: input.references.map((r) => ({ ...digestOf(r), xml: serializeXml(r.element) })),
    identity: input.identity,
    soapVersion: input.options.soapVersion,
    at: (clock ?? systemClock).now(),
    id: (idGenerator ?? uuidIdGenerator).next(),
  };
}

/**
 * Thread: the receipt the handler would build (receiptXml) of the same envelope, parsed again within the limits it
 * was parsed within, acknowledging the same references, signed with the same identity, at the same time and id.
 */
export function runReceiptJob(job: ReceiptJob): string {
  const doc = parseXmlStrict(job.envelopeXml, 'AS4_EBMS_0009', {
    what: 'SOAP envelope',
    allowProcessingInstructions: true,
    limits: job.xmlLimits,
  });
  const references = job.references.map(({ xml, ...digest }) => ({
    ...digest,
    element: parseXmlStrict(xml, 'AS4_EBMS_0009', { what: 'ds:Reference', limits: job.xmlLimits })
      .documentElement!,
  }));
  return receiptXml(doc, references, sameIdentity(job.identity), {
    soapVersion: job.soapVersion,
    clock: { now: () => job.at },
    idGenerator: { next: () => job.id },
  });
}

function digestOf(r: SignedDigest): SignedDigest {
  return { uri: r.uri, transforms: r.transforms, digestMethod: r.digestMethod, digestValue: r.digestValue };
}

/**
 * The identity as posted, its certificates shared by content: a clone is a new object at each call, and the
 * signing code keeps what it derives from a certificate per object (issuer strings, ids).
 */
function sameIdentity(identity: SigningIdentity): SigningIdentity {
  return {
    privateKey: identity.privateKey,
    certificate: certificateFrom(identity.certificate.raw),
    chain: identity.chain.map((c) => certificateFrom(c.raw)),
  };
}

/** The octets in an ArrayBuffer of their own (a copy only when `bytes` is a view of a larger one). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}
