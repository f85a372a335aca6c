import { createHash, type X509Certificate } from 'node:crypto';
import type { SigningIdentity } from '../../pki/types.js';
import { encryptionXml } from '../security/attachment-encryption.js';
import { compressPayloads, compressPayloadsStreaming } from './compression.js';
import { BODY_ID, bodyXml, MESSAGING_ID, messagingXml, userMessageXml } from './envelope-build.js';
import { encodeMultipart, encodeMultipartStreaming, type StreamedMultipart } from './multipart.js';
import { readAll, streamedAttachment } from './streamed-body.js';
import { isOpaqueMediaType } from './swa.js';
import type { Attachment, SignatureReference, UserMessage } from '../model/types.js';
import { BST_ID, signedEnvelopeXml } from '../security/ws-security-sign.js';

export interface PackedUserMessage {
  readonly contentType: string;
  readonly body: Buffer;
  /** The signature's references (what the NRR receipt must acknowledge). */
  readonly references: readonly SignatureReference[];
}

/**
 * A UserMessage ready for the wire, in the order the profiles prescribe: compress (AS4 §3.1), sign
 * (Messaging, Body, every attachment), encrypt the attachments (sign-then-encrypt), MIME-package.
 */
export function packUserMessage(input: {
  message: UserMessage;
  attachments: readonly Attachment[];
  identity: SigningIdentity;
  compress?: boolean;
  encryptFor?: X509Certificate;
}): PackedUserMessage {
  const { message, attachments } = input.compress
    ? compressPayloads(input.message, input.attachments)
    : input;
  const { mime, references } = signAndEncrypt(message, attachments, input, encodeMultipart);
  return { contentType: mime.contentType, body: mime.body, references };
}

export interface StreamedPackedUserMessage {
  readonly contentType: string;
  /** The MIME message, streamed from the attachments' sources while it is sent. */
  readonly body: StreamedMultipart;
  readonly references: readonly SignatureReference[];
}

/**
 * packUserMessage for attachments that may be streamed (`Attachment.stream`): compression writes GZIP files
 * into `spoolDir` (the caller removes them after sending), digests are computed in one pass over each
 * source, and encryption and MIME packaging happen while the body is read. Memory stays flat whatever the
 * payload size.
 */
export async function packUserMessageStreaming(input: {
  message: UserMessage;
  attachments: readonly Attachment[];
  identity: SigningIdentity;
  compress?: boolean;
  encryptFor?: X509Certificate;
  spoolDir: string;
}): Promise<StreamedPackedUserMessage> {
  const { message, attachments } = input.compress
    ? await compressPayloadsStreaming(input.message, input.attachments, input.spoolDir)
    : { message: input.message, attachments: await Promise.all(input.attachments.map(withDigest)) };
  const { mime, references } = signAndEncrypt(message, attachments, input, encodeMultipartStreaming);
  return { contentType: mime.contentType, body: mime, references };
}

/**
 * The steps after compression, the same for both shapes of the MIME body: sign (the plaintext attachments),
 * encrypt (sign-then-encrypt), package. The envelope is written as text (envelope-build.ts,
 * ws-security-sign.ts): eb:Messaging and the Body in their canonical form, so the octets the signature
 * digests are the octets sent.
 */
function signAndEncrypt<M>(
  message: UserMessage,
  attachments: readonly Attachment[],
  keys: { identity: SigningIdentity; encryptFor?: X509Certificate | undefined },
  encode: (envelopeXml: string, attachments: readonly Attachment[]) => M,
): { mime: M; references: readonly SignatureReference[] } {
  const encrypted = keys.encryptFor
    ? encryptionXml(attachments, keys.encryptFor, new Set([MESSAGING_ID, BODY_ID, BST_ID]))
    : { xml: '', attachments };
  const { xml, references } = signedEnvelopeXml(
    SOAP_VERSION,
    messagingXml(SOAP_VERSION, userMessageXml(message)),
    bodyXml(SOAP_VERSION),
    keys.identity,
    attachments,
    encrypted.xml,
  );
  return { mime: encode(xml, encrypted.attachments), references };
}

/** AS4 (eDelivery) sends SOAP 1.2. */
const SOAP_VERSION = '1.2';

/**
 * A streamed attachment ready to be signed: its SHA-256 computed in one pass when unknown; an XML or text
 * one loaded into memory, as its canonical form needs the whole of it.
 */
async function withDigest(a: Attachment): Promise<Attachment> {
  const source = a.stream;
  if (!source || source.sha256) return a;
  if (!isOpaqueMediaType(a.contentType))
    return { contentId: a.contentId, contentType: a.contentType, body: await readAll(source.open()) };
  const hash = createHash('sha256');
  for await (const chunk of source.open()) hash.update(chunk as Buffer);
  return streamedAttachment(a.contentId, a.contentType, { ...source, sha256: hash.digest() });
}
