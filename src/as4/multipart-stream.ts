import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { QerdsError } from '../core/index.js';
import {
  assembleParts,
  fail,
  multipartBoundary,
  parseHeaders,
  transferDecode,
  type DecodedMultipart,
  type DecodeMultipartLimits,
  type RawPart,
} from './multipart.js';
import { fileBody, spoolDirectory, type SpoolDir } from './streamed-body.js';

export interface DecodeMultipartStreamingOptions extends DecodeMultipartLimits {
  /** Directory for the parts that are spooled to files (the caller removes it when done). */
  readonly spoolDir: SpoolDir;
  /** A part that grows beyond this many bytes goes to a file in `spoolDir`. @defaultValue 1048576 (1 MiB) */
  readonly spoolThresholdBytes?: number;
}

const PASS_THROUGH_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/** A part's body as it arrives: in memory while small, then in a file (hashed on the way). */
class PartSink {
  private chunks: Buffer[] = [];
  private size = 0;
  private file?: { handle: FileHandle; path: string; hash: Hash };

  constructor(
    private readonly headers: Map<string, string>,
    private readonly options: Required<
      Pick<DecodeMultipartStreamingOptions, 'spoolDir' | 'spoolThresholdBytes'>
    >,
  ) {}

  async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.file) return this.append(bytes);
    this.chunks.push(Buffer.from(bytes)); // a copy: `bytes` is a view of the parser's window, reused later
    if (this.size <= this.options.spoolThresholdBytes) return;
    const cte = (this.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
    // Decoding base64 or quoted-printable on the fly is not implemented; AS4 products send binary parts.
    if (!PASS_THROUGH_ENCODINGS.has(cte))
      fail(
        `Content-Transfer-Encoding ${cte} is not supported for a part above ${this.options.spoolThresholdBytes} bytes`,
      );
    const path = join(await spoolDirectory(this.options.spoolDir), randomUUID());
    this.file = { handle: await open(path, 'wx', 0o600), path, hash: createHash('sha256') };
    const pending = Buffer.concat(this.chunks);
    this.chunks = [];
    await this.append(pending);
  }

  private async append(bytes: Buffer): Promise<void> {
    this.file!.hash.update(bytes);
    await this.file!.handle.write(bytes);
  }

  async finish(): Promise<RawPart> {
    if (!this.file) {
      const cte = (this.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
      return { headers: this.headers, body: transferDecode(cte, Buffer.concat(this.chunks)) };
    }
    await this.file.handle.close();
    const body = fileBody(this.file.path, this.size, this.file.hash.digest());
    this.file = undefined;
    return { headers: this.headers, body };
  }

  async abort(): Promise<void> {
    await this.file?.handle.close().catch(() => {});
  }
}

/**
 * decodeMultipart over a stream (RFC 2046 boundary scan as the octets arrive): the SOAP part stays in
 * memory, every part beyond `spoolThresholdBytes` is written to a file of `spoolDir` as it arrives, so a
 * message of any size passes in a small, fixed amount of memory. Same rules and errors (AS4_EBMS_0007) as
 * decodeMultipart; limits are enforced while the octets arrive.
 */
export async function decodeMultipartStreaming(
  contentType: string,
  source: AsyncIterable<Buffer>,
  options: DecodeMultipartStreamingOptions,
): Promise<DecodedMultipart> {
  const maxBytes = options.maxBytes ?? 104_857_600;
  const maxParts = options.maxParts ?? 101;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16_384;
  const sinkOptions = {
    spoolDir: options.spoolDir,
    spoolThresholdBytes: options.spoolThresholdBytes ?? 1_048_576,
  };
  const { ct, boundary } = multipartBoundary(contentType);
  const dash = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);

  const parts: RawPart[] = [];
  // `as`: assigned inside step(), so the compiler must not narrow it to its first value.
  let state = 'preamble' as 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';
  let window: Buffer = Buffer.alloc(0);
  let total = 0;
  let sink: PartSink | undefined;

  /** Consumes what `window` allows; returns when it needs more octets. */
  const step = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble') {
        if (window.length < dash.length) return;
        if (window.subarray(0, dash.length).equals(dash)) {
          window = window.subarray(dash.length);
        } else {
          const at = window.indexOf(delimiter);
          if (at < 0) {
            window = window.subarray(Math.max(0, window.length - delimiter.length + 1));
            return;
          }
          window = window.subarray(at + delimiter.length);
        }
        state = 'delimiter';
      } else if (state === 'delimiter') {
        let pos = 0;
        if (window.length < 2) return;
        if (window[0] === 0x2d && window[1] === 0x2d) {
          if (parts.length === 0) fail('no body parts');
          state = 'epilogue'; // close delimiter; the epilogue is ignored (RFC 2046 §5.1.1)
          continue;
        }
        while (window[pos] === 0x20 || window[pos] === 0x09) pos++; // transport padding
        if (pos + 2 > window.length) return;
        if (window[pos] !== 0x0d || window[pos + 1] !== 0x0a) fail('boundary delimiter not followed by CRLF');
        if (parts.length >= maxParts) fail(`more than ${maxParts} parts`);
        window = window.subarray(pos + 2);
        state = 'headers';
      } else if (state === 'headers') {
        if (window.length < 2) return;
        let headerEnd: number;
        let bodyStart: number;
        if (window[0] === 0x0d && window[1] === 0x0a) {
          headerEnd = 0;
          bodyStart = 2;
        } else {
          const sep = window.indexOf('\r\n\r\n');
          if (sep < 0) {
            if (window.length > maxHeaderBytes) fail('part headers too large');
            return;
          }
          headerEnd = sep;
          bodyStart = sep + 4;
        }
        sink = new PartSink(parseHeaders(window.subarray(0, headerEnd), maxHeaderBytes), sinkOptions);
        window = window.subarray(bodyStart);
        state = 'body';
      } else if (state === 'body') {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter split across two chunks.
          const safe = Math.max(0, window.length - delimiter.length + 1);
          await sink!.write(window.subarray(0, safe));
          window = window.subarray(safe);
          return;
        }
        await sink!.write(window.subarray(0, at));
        parts.push(await sink!.finish());
        sink = undefined;
        window = window.subarray(at + delimiter.length);
        state = 'delimiter';
      } else {
        window = Buffer.alloc(0);
        return;
      }
    }
  };

  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes)
        throw new QerdsError('AS4_EBMS_0007', `MIME message exceeds ${maxBytes} bytes`, {
          details: { limit: maxBytes },
        });
      window = window.length === 0 ? chunk : Buffer.concat([window, chunk]);
      await step();
    }
    if (state === 'preamble') fail('no boundary delimiter');
    if (state !== 'epilogue') fail('missing close delimiter');
  } catch (error) {
    await sink?.abort();
    throw error;
  }
  return assembleParts(ct, parts);
}
