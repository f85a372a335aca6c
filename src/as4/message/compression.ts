import { createGunzip, createGzip, gzipSync, gunzipSync } from 'node:zlib';
import { isQerdsError, QerdsError } from '../../core/index.js';
import { contentIdFromCid } from './multipart.js';
import { spoolDirectory, spoolToFile, streamedAttachment, type SpoolDir } from './streamed-body.js';
import type { Attachment, PartInfo, UserMessage } from '../model/types.js';

/** AS4 profile §3.1: the one compression type, as PartProperty `CompressionType` and as the MIME part's type. */
export const GZIP_MEDIA_TYPE = 'application/gzip';
export const COMPRESSION_TYPE_PROPERTY = 'CompressionType';

/**
 * Largest decompressed size of one payload part, bytes. @defaultValue 104857600 (100 MiB)
 * A few KiB of gzip can expand to gigabytes (decompression bomb): the limit is enforced by zlib while it
 * inflates, not after.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 104_857_600;

export interface CompressedPayloads {
  readonly message: UserMessage;
  readonly attachments: readonly Attachment[];
}

/**
 * GZIP every payload before signing (AS4 profile §3.1): the MIME part becomes `application/gzip`, its
 * PartInfo gains `CompressionType=application/gzip` and keeps the original type in `MimeType`. The
 * signature then covers the compressed octets, which is what the receiver checks before inflating.
 */
export function compressPayloads(
  message: UserMessage,
  attachments: readonly Attachment[],
): CompressedPayloads {
  const out = attachments.map(gzipInMemory);
  return { message: withCompressionType(message, out), attachments: out };
}

/** compressPayloads for attachments that may be streamed: those are GZIP'd into files of `spoolDir`, not memory. */
export async function compressPayloadsStreaming(
  message: UserMessage,
  attachments: readonly Attachment[],
  spoolDir: string,
): Promise<CompressedPayloads> {
  const out: Attachment[] = [];
  for (const a of attachments) {
    if (!a.stream) out.push(gzipInMemory(a));
    else
      out.push(
        streamedAttachment(
          a.contentId,
          GZIP_MEDIA_TYPE,
          await spoolToFile(a.stream.open(), spoolDir, [createGzip()]),
        ),
      );
  }
  return { message: withCompressionType(message, out), attachments: out };
}

const gzipInMemory = (a: Attachment): Attachment => ({
  contentId: a.contentId,
  contentType: GZIP_MEDIA_TYPE,
  body: gzipSync(a.body),
});

/** The PartInfos of the compressed parts gain `CompressionType=application/gzip`. */
function withCompressionType(message: UserMessage, compressedParts: readonly Attachment[]): UserMessage {
  const compressed = new Set(compressedParts.map((a) => a.contentId));
  const payloads: PartInfo[] = message.payloads.map((p) => {
    const cid = contentIdFromCid(p.href);
    if (
      cid === undefined ||
      !compressed.has(cid) ||
      p.properties.some((q) => q.name === COMPRESSION_TYPE_PROPERTY)
    )
      return p;
    return {
      ...p,
      properties: [...p.properties, { name: COMPRESSION_TYPE_PROPERTY, value: GZIP_MEDIA_TYPE }],
    };
  });
  return { ...message, payloads };
}

/**
 * Inflate the parts whose PartInfo says `CompressionType=application/gzip` and give them back their
 * `MimeType`. Bad gzip, a missing MimeType, an unknown compression type, or more than `maxBytes` after
 * inflation → QerdsError AS4_EBMS_0303 (DecompressionFailure). Parts without CompressionType are kept.
 */
export function decompressPayloads(
  message: UserMessage,
  attachments: readonly Attachment[],
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Attachment[] {
  return attachments.map((a) => {
    const info = compressedPartInfo(message, a);
    if (!info) return a;
    let body: Buffer;
    try {
      body = gunzipSync(a.body, { maxOutputLength: maxBytes });
    } catch (cause) {
      const tooLarge =
        (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError;
      throw decompressionFailure(info, a, maxBytes, tooLarge, cause);
    }
    return { contentId: a.contentId, contentType: info.mimeType, body };
  });
}

/**
 * decompressPayloads for attachments that may be streamed: those are inflated into files of `spoolDir`, the
 * limit counted while zlib inflates (a bomb stops at `maxBytes`, its file removed).
 */
export async function decompressPayloadsStreaming(
  message: UserMessage,
  attachments: readonly Attachment[],
  spoolDir: SpoolDir,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const a of attachments) {
    const info = a.stream ? compressedPartInfo(message, a) : undefined;
    if (!a.stream || !info) {
      out.push(...decompressPayloads(message, [a], maxBytes));
      continue;
    }
    const limit = {
      maxBytes,
      error: () => new QerdsError('AS4_STREAM_LIMIT', `more than ${maxBytes} bytes`),
    };
    try {
      out.push(
        streamedAttachment(
          a.contentId,
          info.mimeType,
          await spoolToFile(a.stream.open(), await spoolDirectory(spoolDir), [createGunzip()], limit),
        ),
      );
    } catch (cause) {
      throw decompressionFailure(info, a, maxBytes, isQerdsError(cause, 'AS4_STREAM_LIMIT'), cause);
    }
  }
  return out;
}

/** The PartInfo of a part that says `CompressionType=application/gzip`, or undefined for an uncompressed part (AS4_EBMS_0303 for a bad one). */
function compressedPartInfo(message: UserMessage, a: Attachment): PartInfo | undefined {
  const info = message.payloads.find((p) => contentIdFromCid(p.href) === a.contentId);
  const type = info?.properties.find((p) => p.name === COMPRESSION_TYPE_PROPERTY)?.value;
  if (!info || type === undefined) return undefined;
  if (type.toLowerCase() !== GZIP_MEDIA_TYPE)
    throw new QerdsError('AS4_EBMS_0303', `unsupported CompressionType ${type} for ${info.href}`);
  if (!info.mimeType)
    throw new QerdsError('AS4_EBMS_0303', `compressed part ${info.href} has no MimeType part property`);
  return info;
}

function decompressionFailure(
  info: PartInfo,
  a: Attachment,
  maxBytes: number,
  tooLarge: boolean,
  cause: unknown,
): QerdsError {
  return new QerdsError(
    'AS4_EBMS_0303',
    tooLarge ? `part ${info.href} inflates beyond ${maxBytes} bytes` : `part ${info.href} is not valid gzip`,
    {
      cause,
      details: { contentId: a.contentId },
    },
  );
}
