import type { X509Certificate } from 'node:crypto';
import type { SigningIdentity } from '../pki/types.js';
import { encryptAttachments } from './attachment-encryption.js';
import { compressPayloads } from './compression.js';
import { buildUserMessageEnvelope } from './envelope-build.js';
import { encodeMultipart } from './multipart.js';
import type { Attachment, SignatureReference, UserMessage } from './types.js';
import { signEnvelope } from './ws-security-sign.js';
import { serializeXml } from './xml-util.js';

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
  const { message, attachments } = input.compress ? compressPayloads(input.message, input.attachments) : input;
  const doc = buildUserMessageEnvelope(message);
  const { references } = signEnvelope(doc, attachments, input.identity);
  const sent = input.encryptFor ? encryptAttachments(doc, attachments, input.encryptFor) : attachments;
  const mime = encodeMultipart(serializeXml(doc), sent);
  return { contentType: mime.contentType, body: mime.body, references };
}
